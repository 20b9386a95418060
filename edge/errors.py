"""Errors as values: a code and a text the client sees.

Raised where the fault is found; turned into the API's envelope in one place in `edge.web`.
"""


class EdgeError(Exception):
    """A fault the client should see: `code` and `text` go into the envelope as they are.

    `status` is the HTTP status the web layer answers with. FactoryTX answers most failures
    with 200 and `success: false`, Machbase with an `error_code`; the web layer decides how to
    render, the raiser only says what went wrong.
    """

    def __init__(self, code: int, text: str, status: int = 400):
        super().__init__(text)
        self.code = code
        self.text = text
        self.status = status

    def __repr__(self) -> str:
        return f"EdgeError({self.code}, {self.text!r}, status={self.status})"
