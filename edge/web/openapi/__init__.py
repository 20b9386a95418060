"""The OpenAPI 3.1 description of every endpoint (`/openapi.json`) and the page that shows it
(`/docs`). One module per route family (ftx, machbase, machiot, ui, service), each a
`paths()` function; `document.describe()` puts them together, so a new family is one module
and one line in `document.FAMILIES`."""
