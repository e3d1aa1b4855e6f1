"""The Gradio chat: a thin shell around `Engine.answer`; no answering logic lives here.

`create_app(get_engine, settings) -> gr.Blocks`. Each reply is shown as the answer (quotes with [n]
markers), the not-medical-advice notice, and a collapsible "Sources" message with every cited
passage and the quoted sentences highlighted; abstentions list related passages, marked as such.
Bad input (empty, too long, unreadable) gets a friendly line and the text stays in the box, so
nothing typed is lost. No fonts, scripts or analytics are fetched from any other host.
"""

from __future__ import annotations

import html
import re
from typing import Callable

from app.records import BadInput, Reply
from app.settings import Settings

EXAMPLES = [
    "How is esketamine given?",
    "how fast does ketamine work compared to normal antidepressants?",
    "is ketamine addictive",
    "Does it help with PTSD or OCD?",
    "what are the side effects",
]
SOURCES_TITLE = "Sources"
RELATED_TITLE = "Related passages (not an answer)"


class NotReady(RuntimeError):
    """The engine is still loading."""


def _highlight(passage_text: str, quotes: tuple[str, ...]) -> str:
    """Passage text, HTML-escaped, with each quoted sentence wrapped in <mark>."""
    text = html.escape(" ".join(passage_text.split()))
    for q in quotes:
        q_esc = html.escape(" ".join(q.split()))
        text = text.replace(q_esc, f"<mark>{q_esc}</mark>", 1)
    return text


def _escape_md(text: str) -> str:
    """Escape text for Gradio's Markdown so source or user text can never become markup."""
    return re.sub(r"([\\`*_{}\[\]<>#|~])", r"\\\1", html.escape(text, quote=False))


def render(reply: Reply) -> list[dict]:
    """Chat messages for one reply: the answer, then collapsible sources or related passages."""
    body = reply.text if reply.kind != "answer" else _escape_md(reply.text).replace("\\[", "[").replace("\\]", "]")
    messages = [{"role": "assistant", "content": f"{body}\n\n<small><em>{html.escape(reply.notice)}</em></small>"}]
    if reply.citations:
        parts = [f"**[{c.number}] {html.escape(c.passage.title)}**" + (f" — {html.escape(c.passage.section)}" if c.passage.section else "")
                 + f"<br>{_highlight(c.passage.text, c.quotes)}" for c in reply.citations]
        messages.append({"role": "assistant", "content": "\n\n".join(parts), "metadata": {"title": f"{SOURCES_TITLE} ({len(parts)})", "status": "done"}})
    if reply.related:
        parts = [f"**{html.escape(h.passage.title)}**<br>{html.escape(' '.join(h.passage.text.split()))}" for h in reply.related]
        messages.append({"role": "assistant", "content": "\n\n".join(parts), "metadata": {"title": RELATED_TITLE, "status": "done"}})
    return messages


def conversation(chat: list) -> list[dict]:
    """The turns the engine sees: user messages and answers, not the sources panels."""
    turns = []
    for m in chat or []:
        if isinstance(m, dict) and not (m.get("metadata") or {}).get("title"):
            turns.append({"role": m.get("role"), "content": m.get("content")})
    return turns


def respond(answer: Callable, message: str, chat: list, request=None) -> tuple[list, str, str]:
    """(new chat, text left in the box, status line). Never raises to the user.
    `answer(message, history, request)` is the server's guarded engine call."""
    chat = list(chat or [])
    try:
        reply = answer(message, conversation(chat), request)
    except BadInput as exc:
        return chat, message, f"⚠️ {exc}"
    except NotReady:
        return chat, message, "⏳ The assistant is still starting up. Please try again in a few seconds."
    chat.append({"role": "user", "content": message})
    chat.extend(render(reply))
    status = f"Searched for: “{html.escape(reply.query)}”" if reply.query else ""
    return chat, "", status


def create_app(get_engine: Callable, settings: Settings, answer: Callable | None = None):
    """`answer(message, history, request)` defaults to calling the engine directly (no limits)."""
    import gradio as gr

    answer = answer or (lambda message, history, request=None: get_engine().answer(message, history))

    b = settings.branding
    with gr.Blocks(title=b.clinic_name, analytics_enabled=False) as demo:
        gr.Markdown(f"## {html.escape(b.clinic_name)}\n{html.escape(b.welcome)}\n\n"
                    "_General information quoted from the listed sources, not medical advice. "
                    "In an emergency call your local emergency number._")
        chat = gr.Chatbot(label="Conversation", height=480, sanitize_html=True, group_consecutive_messages=False)
        status = gr.Markdown(elem_id="status")
        with gr.Row():
            box = gr.Textbox(placeholder="Ask about ketamine for depression or anxiety…", show_label=False, scale=8, lines=1,
                             elem_id="question")
            send = gr.Button("Send", variant="primary", scale=1, elem_id="send")
        gr.Examples(EXAMPLES, inputs=box, label="Try asking")
        clear = gr.Button("Clear conversation", size="sm")
        def fn(message: str, history: list, request):
            return respond(answer, message, history, request)

        fn.__annotations__["request"] = gr.Request  # real class: this module's annotations are strings

        box.submit(fn, [box, chat], [chat, box, status], api_name="chat")
        send.click(fn, [box, chat], [chat, box, status], api_name=False)
        clear.click(lambda: ([], "", ""), None, [chat, box, status], api_name=False)
    return demo


def theme():
    """Gradio's default theme with system fonts: the stock theme would fetch Google Fonts."""
    import gradio as gr

    return gr.themes.Default(font=["system-ui", "-apple-system", "Segoe UI", "sans-serif"], font_mono=["ui-monospace", "monospace"])
