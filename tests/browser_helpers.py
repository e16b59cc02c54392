"""Serving a bot's web app on loopback for a real browser, and what the browser tests check
on every page: no serious accessibility violation (axe-core), and a screenshot for docs/."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from chatbot.web.app import WebHost, create_app

SCREENSHOTS = Path(__file__).parent.parent / "docs" / "screenshots"
#: a phone (an iPhone 12-sized viewport) and a desktop window
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}
#: what the checks below refuse
SERIOUS = ("serious", "critical")


@contextlib.asynccontextmanager
async def serve(bot: WebHost) -> AsyncIterator[str]:
    """The bot's web app on 127.0.0.1 and a free port; yields its base URL."""
    runner = web.AppRunner(create_app(bot), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = int(runner.addresses[0][1])
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def serious_violations(page: Any, axe: Path) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (the context
    must be made with ``bypass_csp=True``: the pages allow no injected script)."""
    await page.add_script_tag(path=str(axe))
    found: list[dict[str, Any]] = await page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        targets: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}))"""
    )
    return [v for v in found if v["impact"] in SERIOUS]


async def screenshot(page: Any, name: str) -> None:
    """A full-page PNG into docs/screenshots/ (documentation, never compared)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
