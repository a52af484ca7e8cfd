"""Video files -> a few frames sampled uniformly over the clip, as PIL images a VLM's processor takes.
It must never hold a whole clip in memory: only the sampled frames are decoded and kept."""

from __future__ import annotations

from pathlib import Path

# Formats PIL reads frame by frame; others (mp4, webm, mkv, mov) need PyAV (the `video` extra).
_PIL_FORMATS = {".gif", ".webp", ".png", ".apng", ".tif", ".tiff"}


def frame_count(duration_s: float, total: int, *, fps: float, min_frames: int, max_frames: int) -> int:
    """How many frames to take: ``round(duration x fps)`` held within ``[min_frames, max_frames]``, and never
    more than the clip has.

    >>> frame_count(10.0, 300, fps=2.0, min_frames=4, max_frames=16)
    16
    >>> frame_count(1.0, 30, fps=2.0, min_frames=4, max_frames=16)
    4
    >>> frame_count(1.0, 3, fps=2.0, min_frames=4, max_frames=16)
    3
    """
    wanted = max(min_frames, min(max_frames, round(duration_s * fps)))
    return max(1, min(total, wanted))


def uniform_indices(total: int, count: int) -> list[int]:
    """``count`` frame indices spread evenly from the first frame to the last.

    >>> uniform_indices(10, 4)
    [0, 3, 6, 9]
    >>> uniform_indices(5, 1)
    [0]
    """
    if count <= 1:
        return [0]
    return [round(i * (total - 1) / (count - 1)) for i in range(count)]


def sample_frames(path: str | Path, *, fps: float, min_frames: int, max_frames: int) -> list:
    """The sampled frames of the video at ``path`` (RGB PIL images). Raises ValueError for a file that
    cannot be read, naming what would read it."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"video file {path} not found")
    if path.suffix.lower() in _PIL_FORMATS:
        return _pil_frames(path, fps, min_frames, max_frames)
    return _pyav_frames(path, fps, min_frames, max_frames)


def _pil_frames(path: Path, fps: float, min_frames: int, max_frames: int) -> list:
    from PIL import Image

    with Image.open(path) as clip:
        total = getattr(clip, "n_frames", 1)
        durations = []
        for index in range(total):
            clip.seek(index)
            durations.append(clip.info.get("duration", 0) or 0)
        duration_s = sum(durations) / 1000 if any(durations) else total / 25.0
        count = frame_count(duration_s, total, fps=fps, min_frames=min_frames, max_frames=max_frames)
        frames = []
        for index in uniform_indices(total, count):
            clip.seek(index)
            frames.append(clip.convert("RGB"))
    return frames


def _pyav_frames(path: Path, fps: float, min_frames: int, max_frames: int) -> list:
    try:
        import av
    except ImportError:
        raise ValueError(
            f"reading {path.suffix} videos needs PyAV: pip install 'grpokit[video]'; GIF, WebP and APNG clips are read "
            "without it"
        ) from None
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        total = stream.frames or sum(1 for _ in container.decode(stream))
        rate = float(stream.average_rate or 25)
    if not total:
        raise ValueError(f"video file {path} holds no frames")
    count = frame_count(total / rate, total, fps=fps, min_frames=min_frames, max_frames=max_frames)
    wanted = set(uniform_indices(total, count))
    with av.open(str(path)) as container:
        return [frame.to_image().convert("RGB")
                for index, frame in enumerate(container.decode(container.streams.video[0])) if index in wanted]
