"""Policy, answer composition, the `Engine.answer(message, history) -> Reply` call, UI and HTTP.

Everything a user sees goes through `Engine.answer`; the Gradio UI, the HTTP API and the evaluation
runner are thin shells around it, so what is measured is what users get.
"""
