"""Connection classes promptflow tools annotate their parameters with.

A python node input that names a connection of the experiment (`connection: openai`) reaches a
tool whose parameter has one of these types as an instance carrying that connection's endpoint
settings and its API key. The key is only ever handed to the tool: `repr` leaves it out.
"""


class _Connection:
    """Settings (`configs`) and secrets of one connection; `connection["key"]` reads either."""

    def __init__(self, name=None, configs=None, secrets=None, **_kwargs):
        self.name = name
        self.configs = dict(configs or {})
        self.secrets = dict(secrets or {})

    def keys(self):
        return list(self.configs) + list(self.secrets)

    def __getitem__(self, key):
        if key in self.secrets:
            return self.secrets[key]
        if key in self.configs:
            return self.configs[key]
        raise KeyError(f"key {key!r} not found in connection {self.name!r}")

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r}, configs={self.configs!r})"


class OpenAIConnection(_Connection):
    def __init__(self, api_key=None, organization=None, base_url=None, **kwargs):
        super().__init__(
            configs={"organization": organization, "base_url": base_url or None},
            secrets={"api_key": api_key},
            **kwargs,
        )

    @property
    def api_key(self):
        return self.secrets.get("api_key")

    @property
    def organization(self):
        return self.configs.get("organization")

    @property
    def base_url(self):
        return self.configs.get("base_url")

    # Older tools read `api_base` from every connection.
    api_base = base_url


class AzureOpenAIConnection(_Connection):
    def __init__(
        self,
        api_base=None,
        api_key=None,
        api_type="azure",
        api_version="2024-02-01",
        **kwargs,
    ):
        super().__init__(
            configs={"api_base": api_base, "api_type": api_type, "api_version": api_version},
            secrets={"api_key": api_key},
            **kwargs,
        )

    @property
    def api_key(self):
        return self.secrets.get("api_key")

    @property
    def api_base(self):
        return self.configs.get("api_base")

    @property
    def api_type(self):
        return self.configs.get("api_type")

    @property
    def api_version(self):
        return self.configs.get("api_version")


class CustomConnection(_Connection):
    """Any settings and secrets, read as attributes: `connection.api_base`."""

    def __init__(self, secrets=None, configs=None, **kwargs):
        super().__init__(configs=configs, secrets=secrets, **kwargs)

    def __getattr__(self, key):
        # Only called for names that are not real attributes.
        if key.startswith("_") or key in ("configs", "secrets", "name"):
            raise AttributeError(key)
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"connection {self.name!r} has no {key!r}") from None


CONNECTION_CLASSES = (OpenAIConnection, AzureOpenAIConnection, CustomConnection)

__all__ = ["AzureOpenAIConnection", "CustomConnection", "OpenAIConnection"]
