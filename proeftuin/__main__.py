from proeftuin.cli import main

main()
