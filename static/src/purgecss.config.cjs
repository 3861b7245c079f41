// PurgeCSS for `make assets`: keep the NL Design System rules and tokens the pages use.
// Our own stylesheets (static/css) are kept whole: their class names are often made in templates
// ("proeftuin-phase--{{ phase }}") or in Python (the SVG charts), out of the scanner's sight.
module.exports = {
  content: ["templates/**/*.html", "proeftuin/web/**/*.py"],
  variables: true,
  keyframes: true,
  fontFace: true,
  safelist: {
    standard: [
      /^(proeftuin|voting|results|beheer|moderation|letters?|htmx)(-|_|$)/,
      /^utrecht-form-field--/, // forms.html: utrecht-form-field--{{ kind }}
    ],
  },
};
