"""Domain errors raised by :mod:`geo`, each carrying the HTTP status it maps to."""


class GeoError(Exception):
    """Base class of every error raised by :mod:`geo`.

    Parameters
    ----------
    message : str
        Human-readable explanation, naming the offending input.
    field : str, optional
        Name of the argument, option or form field at fault.
    """

    status = 400
    code = "invalid"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class CRSError(GeoError):
    """A coordinate reference system is missing, unknown or unusable."""

    code = "crs"
    status = 422


class QuartierFileError(GeoError):
    """A quartier boundary file cannot be imported as it is."""

    code = "quartier_file"
    status = 422
