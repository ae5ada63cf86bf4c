"""Optional LLM helpers (OpenAI-compatible endpoint): entry second opinion, stream commentary, session review.

Nothing here is needed to trade: without ``FLASHSCALPER_LLM_BASE_URL`` / ``FLASHSCALPER_LLM_MODEL``
the advisor approves everything at 1× and the commentator stays silent.
"""
