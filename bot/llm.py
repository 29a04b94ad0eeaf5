"""The AI coach's optional model: any OpenAI-compatible chat-completions endpoint (hosted providers,
Azure, a local Ollama or vLLM), `POST {LLM_BASE_URL}/chat/completions`, through the `openai` client.

What the model is given is built here and nowhere else (`coach_messages`): a fixed instruction, the
question as asked, and the items the coach retrieved for the asker under the privacy rule (their
numbers, kinds, texts, tools and time saved; never who wrote them, never anything else). Any failure
(an error, no first token within FIRST_TOKEN_TIMEOUT, the answer not done within ANSWER_TIMEOUT) is a
ModelError, and the coach answers plainly instead."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.services.search import Hit

log = logging.getLogger(__name__)

FIRST_TOKEN_TIMEOUT = 8.0  # seconds: a person is watching the status line
ANSWER_TIMEOUT = 60.0
MAX_QUOTE = 600  # characters of each item given to the model

INSTRUCTION = (
    "You are the AI coach of a company's Slack workspace. Answer the question using only the numbered items "
    "below: wins and stories colleagues shared about how they used AI. Be brief and practical (at most 120 "
    "words), refer to items by their number in square brackets like [1], and do not invent anything. "
    "If the items do not answer the question, say so in one sentence. The sources are listed after your answer."
)
_MENTION_RE = re.compile(r"<@[UW][A-Z0-9]+(?:\|([^>]*))?>")
_LINK_RE = re.compile(r"<(https?://[^|>]+)(?:\|([^>]*))?>")
_SPECIAL_RE = re.compile(r"<[!#][^>]*>")


class ModelError(Exception):
    """The model did not answer in time, or answered with an error."""


def plain_text(text: str) -> str:
    """Slack's wire format as plain words: `@name` for mentions, link labels, no `<!here>`."""
    text = _MENTION_RE.sub(lambda m: "@" + (m.group(1) or "colleague"), text)
    text = _LINK_RE.sub(lambda m: m.group(2) or m.group(1), text)
    text = _SPECIAL_RE.sub("", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def coach_messages(question: str, items: list[Hit] | tuple[Hit, ...]) -> list[dict[str, str]]:
    """Everything the model is sent."""
    lines = []
    for i, hit in enumerate(items, 1):
        facts = [f"tool: {hit.tool}"] if hit.tool else []
        if hit.minutes_saved:
            facts.append(f"saved {hit.minutes_saved} minutes")
        kind = "story" if hit.kind == "narrative" else "win"
        lines.append(f"[{i}] ({kind}{'; ' + '; '.join(facts) if facts else ''}) {plain_text(hit.text)[:MAX_QUOTE]}")
    return [
        {"role": "system", "content": INSTRUCTION},
        {"role": "user", "content": f"Question: {plain_text(question)[:1000]}\n\nItems:\n" + "\n".join(lines)},
    ]


def safe_markdown(text: str) -> str:
    """Model output made harmless for Slack: no `<!channel>`, `<@U…>` or `<url|forged label>` can form."""
    return text.replace("<", "\u2039")


@dataclass(frozen=True)
class Model:
    base_url: str
    model: str
    api_key: str | None = None
    first_token_timeout: float = FIRST_TOKEN_TIMEOUT
    answer_timeout: float = ANSWER_TIMEOUT

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        """The answer's text, piece by piece as the model writes it. Raises ModelError."""
        import openai  # the client is only loaded where a model is configured

        client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key or "none", max_retries=0,
                               timeout=self.first_token_timeout)
        started = time.monotonic()
        try:
            response: Any = client.chat.completions.create(model=self.model, messages=messages, stream=True,
                                                           temperature=0.2)
            for chunk in response:
                if time.monotonic() - started > self.answer_timeout:
                    response.close()
                    raise ModelError("the answer took too long")
                for choice in chunk.choices or []:
                    if choice.delta and choice.delta.content:
                        yield choice.delta.content
        except openai.OpenAIError as e:
            raise ModelError(f"{type(e).__name__}") from e
        finally:
            client.close()


def model_of(settings: Any) -> Model | None:
    """The configured model, or None (LLM_BASE_URL and LLM_MODEL unset)."""
    if not getattr(settings, "llm_enabled", False):
        return None
    return Model(base_url=settings.llm_base_url, model=settings.llm_model, api_key=settings.llm_api_key)
