"""The shared web layer: server-rendered pages in Georgian, Azerbaijani and English.

- `templating.Pages(domain)`: render a template in the request's language; `add_nav` adds a
  link to the layout's navigation (templates/base.html).
- `routing.page_router()`: an APIRouter for pages (CSRF on writes, HTML errors, login
  redirects that keep a draft of what was typed).
- `deps.PageUserDep`, `deps.PageCallerDep`, `deps.page_caller_with(roles)`,
  `deps.AnyCallerDep`: who is asking, as the same `Caller` the API's tokens give.
- `forms.FormState`: typed values and errors by field; macros in web/forms.html.
- `flash.flash` / `flash.redirect`: one-time messages across a redirect.
- `install.install_web(app)`: mounts /static/web, /language/{code}, /login, /logout,
  /account/password.
"""
