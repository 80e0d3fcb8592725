"""Dependencies of the routes, as ``Annotated`` aliases.

The app factory stores the loaded model, its description and the settings on
``app.state``; routes receive them through these aliases and never reach for
globals, so two apps with different models can live in one process (tests do).
The providers are ``async``: FastAPI calls them in the event loop instead of
sending each one to a thread.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from custseg.api.health import ModelFileWatch
from custseg.api.settings import Settings
from custseg.model import SegmentModel

__all__ = ["CardDep", "ModelDep", "SettingsDep", "WatchDep"]


async def get_model(request: Request) -> SegmentModel:
    return request.app.state.model


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_card(request: Request) -> dict[str, Any]:
    return request.app.state.card


async def get_watch(request: Request) -> ModelFileWatch:
    return request.app.state.watch


ModelDep = Annotated[SegmentModel, Depends(get_model)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
CardDep = Annotated[dict[str, Any], Depends(get_card)]
WatchDep = Annotated[ModelFileWatch, Depends(get_watch)]
