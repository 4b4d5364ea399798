"""The code-reading kernel: how the tool reads source files, whatever Python runs it."""
