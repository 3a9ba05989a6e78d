"""`from promptflow.entities import ...Connection`, as older promptflow code writes it."""

from promptflow.connections import (
    AzureOpenAIConnection,
    CustomConnection,
    OpenAIConnection,
)

__all__ = ["AzureOpenAIConnection", "CustomConnection", "OpenAIConnection"]
