"""Headless Chromium driven over the DevTools protocol: log in to a web app, open a page, read and photograph it.

``chromium --screenshot`` cannot log in; Label Studio's labeling page needs a session. The
protocol (a WebSocket, here through aiohttp, which Ray already installs) lets the test fill
the login form as a person would, then open the page, wait for text to appear, and take its
DOM text and a PNG.
"""

import asyncio
import base64
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

BROWSER = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Page:
    def __init__(self, socket_):
        self.socket, self.next_id = socket_, 0

    async def call(self, method: str, **params):
        self.next_id += 1
        await self.socket.send_str(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads((await self.socket.receive()).data)
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    async def evaluate(self, expression: str):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    async def wait_for(self, expression: str, timeout: float = 90):
        deadline = time.monotonic() + timeout
        while not await self.evaluate(expression):
            if time.monotonic() > deadline:
                raise AssertionError(f"the page never satisfied {expression!r}:\n"
                                     + str(await self.evaluate("document.body && document.body.innerText"))[:2000])
            await asyncio.sleep(0.5)


async def _session(login_url, email, password, page_url, ready, width, height):
    import aiohttp

    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="kalimat-chromium-") as profile:
        browser = subprocess.Popen(
            [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", f"--remote-debugging-port={port}",
             f"--user-data-dir={profile}", f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=5) as response:
                        targets = [t for t in json.load(response) if t["type"] == "page"]
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)
            async with aiohttp.ClientSession() as http, http.ws_connect(
                    targets[0]["webSocketDebuggerUrl"], max_msg_size=0) as socket_:
                page = _Page(socket_)
                await page.call("Page.enable")
                await page.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                                deviceScaleFactor=1, mobile=False)
                await page.call("Page.navigate", url=login_url)
                await page.wait_for("document.querySelector('input[name=email]') !== null")
                await page.evaluate(
                    f"document.querySelector('input[name=email]').value = {json.dumps(email)};"
                    f"document.querySelector('input[name=password]').value = {json.dumps(password)};"
                    "document.querySelector('input[name=password]').form.submit(); true")
                await page.wait_for("!location.pathname.startsWith('/user/login')")
                await page.call("Page.navigate", url=page_url)
                await page.wait_for(ready)
                await asyncio.sleep(2)  # fonts and the last layout pass
                text = await page.evaluate("document.body.innerText")
                shot = await page.call("Page.captureScreenshot", format="png")
                return text, base64.b64decode(shot["data"])
        finally:
            stop(browser, timeout=20)


def logged_in_page(login_url: str, email: str, password: str, page_url: str, ready: str,
                   width: int = 1280, height: int = 900) -> tuple[str, bytes]:
    """The text and a PNG of ``page_url`` once the JavaScript expression ``ready`` holds, after logging in."""
    return asyncio.run(_session(login_url, email, password, page_url, ready, width, height))


def stop(process: subprocess.Popen, timeout: float) -> None:
    """Terminate ``process``; kill it if it has not exited within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
