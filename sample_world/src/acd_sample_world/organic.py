"""TikTok organic videos of the MediaPoster account, with counters that grow day by day.

Each video is posted through MediaPoster (a `content_published` event whose `post_id` is
the TikTok video id) and gains views, likes, comments and shares with a decaying daily
rhythm; the world keeps one cumulative snapshot per day (end of day, UTC).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from acd_sample_world.config import WorldConfig
from acd_sample_world.events import WorldEvent
from acd_sample_world.ids import hex_string, new_uuid, sub_rng

COVER_BASE = "https://p16-sign.tiktokcdn-us.com/tos-useast5-p-0068-tx"
SHARE_BASE = "https://www.tiktok.com/@acd.studio/video"
CAPTIONS = (
    "3 hooks that doubled our CTR",
    "How we batch a month of content in a day",
    "Waitlist to launch in 14 days",
    "Behind the scenes: editing with Content Factory",
    "The one metric we watch every morning",
    "POV: your ad finally works",
    "Stop writing hooks like this",
    "",
)


@dataclass
class Video:
    video: dict[str, Any]  # the Display API video object, counters excluded
    daily: list[tuple[str, int, int, int, int]]  # (date, views, likes, comments, shares)


def build_videos(config: WorldConfig) -> list[Video]:
    rng = sub_rng(config.seed, "tiktok-organic")
    videos: list[Video] = []
    posted = config.start - timedelta(days=6, hours=rng.randint(0, 20))
    while posted < config.end:
        create_time = int(posted.timestamp())
        video_id = str((create_time << 32) | rng.getrandbits(32))
        caption = rng.choice(CAPTIONS)
        virality = rng.lognormvariate(7.0, 1.2)  # first-day views, heavy-tailed
        like_rate = rng.uniform(0.04, 0.12)
        comment_rate = rng.uniform(0.002, 0.01)
        share_rate = rng.uniform(0.001, 0.02)
        views = likes = comments = shares = 0
        daily: list[tuple[str, int, int, int, int]] = []
        first_day = max(posted.date(), config.start_date)
        age0 = (first_day - posted.date()).days
        if age0 > 0:
            # Counters accumulated before the period started.
            for age in range(age0):
                gain = virality * math.exp(-age / 2.5)
                views += int(gain)
            likes, comments, shares = (
                int(views * like_rate),
                int(views * comment_rate),
                int(views * share_rate),
            )
        day = first_day
        while day <= config.end_date:
            age = (day - posted.date()).days
            gain = virality * math.exp(-age / 2.5) * rng.uniform(0.7, 1.3)
            if day == posted.date():
                gain *= 1 - (posted.hour + posted.minute / 60) / 24
            views += int(gain)
            likes = max(likes, int(views * like_rate))
            comments = max(comments, int(views * comment_rate))
            shares = max(shares, int(views * share_rate))
            daily.append((day.isoformat(), views, likes, comments, shares))
            day += timedelta(days=1)
        share_key = hex_string(rng, 16)
        videos.append(
            Video(
                video={
                    "id": video_id,
                    "create_time": create_time,
                    "title": caption[:150],
                    "video_description": (caption + " #creator #marketing").strip()[:150],
                    "duration": rng.randint(9, 90),
                    "cover_image_url": f"{COVER_BASE}/{hex_string(rng, 32)}~tplv-noop.image",
                    "share_url": f"{SHARE_BASE}/{video_id}"
                    f"?utm_campaign=tt4d_open_api&utm_source={share_key}",
                },
                daily=daily,
            )
        )
        posted += timedelta(hours=rng.randint(20, 60))
    return videos


def video_events(config: WorldConfig, videos: list[Video], staff_user_id: str) -> list[WorldEvent]:
    rng = sub_rng(config.seed, "tiktok-organic-events")
    context = {"app": {"name": "mediaposter", "version": "3.1.0"}, "locale": "en-US"}
    events = []
    for video in videos:
        events.append(
            WorldEvent(
                event_id=new_uuid(rng),
                event_name="content_published",
                product="mediaposter",
                occurred_at=_at(video.video["create_time"]),
                user_id=staff_user_id,
                properties={"platform": "tiktok", "post_id": video.video["id"]},
                context=context,
            )
        )
    return events


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
