"""Content settings: `CONSILIUM_CONTENT_*` plus the shared `CONSILIUM_DATA_DIR`."""

from __future__ import annotations

from typing import ClassVar

from plumbing.settings import ComponentSettings, component_settings_config


class ContentSettings(ComponentSettings):
    """Only the shared component settings so far: port 50053, a SQLite file, or a URL."""

    component: ClassVar[str] = "content"
    model_config = component_settings_config("content")
