"""The web console: Jinja2 templates and htmx, served by the app at /console (assets in the
package, no CDN)."""
