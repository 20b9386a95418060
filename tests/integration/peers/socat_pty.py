"""A serial line on this machine: a socat pty pair, one end for the device, one for the receiver.

`PtyPair(folder).start()` runs `socat pty,raw,echo=0,link=<folder>/device pty,raw,echo=0,link=<folder>/receiver`
and waits for both links; bytes written to one end come out of the other, as on a null-modem
cable. `stop()` ends socat, which takes both ends away (the receiver's reads fail, as when a USB
adapter is pulled); `start()` again makes a new pair under the same names (plugged back in).
`Device` writes lines into the device end, as a scale or gauge would.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path


def available() -> str | None:
    """Why socat cannot run here, or None when it can."""
    if shutil.which("socat") is None:
        return "socat is not installed (tests/peers/install.sh installs it)"
    return None


class PtyPair:
    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.device_end = str(folder / "device")
        self.receiver_end = str(folder / "receiver")
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 10) -> PtyPair:
        self.process = subprocess.Popen(
            ["socat", f"pty,raw,echo=0,link={self.device_end}", f"pty,raw,echo=0,link={self.receiver_end}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not (os.path.exists(self.device_end) and os.path.exists(self.receiver_end)):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("socat did not make its pty pair")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 10) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.process = None
        for link in (self.device_end, self.receiver_end):  # socat removes them; a killed one cannot
            if os.path.islink(link):
                os.unlink(link)


class Device:
    """The device's end of a pair, opened raw for writing lines."""

    def __init__(self, pair: PtyPair):
        import serial

        self._port = serial.Serial(pair.device_end, baudrate=115200, timeout=1, write_timeout=5)

    def write(self, data: bytes) -> None:
        self._port.write(data)
        self._port.flush()

    def lines(self, *lines: str, terminator: str = "\r\n") -> None:
        self.write("".join(line + terminator for line in lines).encode("latin-1"))

    def close(self) -> None:
        self._port.close()
