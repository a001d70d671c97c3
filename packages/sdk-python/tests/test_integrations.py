"""The model-provider adapters' pure parts (podflare.integrations), with a recording stand-in
for the sandbox. The frameworks are not installed here: LangChain and the OpenAI Agents SDK are
played by minimal stand-in modules put in sys.modules, which check our wiring, not the real
packages (the adapters against real hostd: tests/integration/integrations-python.test.ts)."""

import asyncio
import sys
import types
import unittest
from dataclasses import dataclass
from unittest import mock

from podflare.integrations import _run_code
from podflare.integrations.anthropic import code_execution_tool, handle_code_execution_tool_use
from podflare.integrations.gemini import podflare_function_declaration, run_function_call


@dataclass
class Ran:
    stdout: str
    stderr: str
    exit_code: int


class FakeSandbox:
    def __init__(self, exit_code=0):
        self.calls = []
        self.exit_code = exit_code
        self.closed = False

    def run_code(self, code, language="python"):
        self.calls.append((code, language))
        return Ran(stdout=f"ran {code}\n", stderr="", exit_code=self.exit_code)

    def close(self):
        self.closed = True


class AnthropicTest(unittest.TestCase):
    def test_tool_result_shape_and_language(self):
        sb = FakeSandbox()
        block = {"type": "tool_use", "id": "toolu_1", "name": "code_execution",
                 "input": {"code": "ls", "language": "bash"}}
        text = "stdout:\nran ls\n\nstderr:\n\nexit_code: 0"
        self.assertEqual(handle_code_execution_tool_use(block, sb), {
            "type": "tool_result", "tool_use_id": "toolu_1",
            "content": [{"type": "text", "text": text}], "is_error": False})
        self.assertEqual(sb.calls, [("ls", "bash")])

    def test_nonzero_exit_and_bad_input_are_errors_for_the_model(self):
        self.assertTrue(handle_code_execution_tool_use(
            {"type": "tool_use", "id": "t", "input": {"code": "x"}}, FakeSandbox(exit_code=1))["is_error"])
        sb = FakeSandbox()
        ruby = {"type": "tool_use", "id": "t", "input": {"code": "x", "language": "ruby"}}
        bad = handle_code_execution_tool_use(ruby, sb)
        self.assertEqual(bad["content"][0]["text"], "error: unknown language 'ruby': use 'python' or 'bash'")
        self.assertEqual(sb.calls, [])
        with self.assertRaises(ValueError):
            handle_code_execution_tool_use({"type": "text", "text": "hi"}, sb)

    def test_tool_definition_is_a_client_tool(self):
        tool = code_execution_tool()
        self.assertEqual(tool["name"], "code_execution")
        self.assertNotIn("type", tool)
        self.assertEqual(tool["input_schema"]["required"], ["code"])


class GeminiTest(unittest.TestCase):
    def test_declaration_and_call(self):
        self.assertEqual(podflare_function_declaration()["parameters"]["type"], "OBJECT")
        sb = FakeSandbox()
        self.assertEqual(run_function_call({"name": "run_code", "args": {"code": "1"}}, sb),
                         {"stdout": "ran 1\n", "stderr": "", "exit_code": 0})
        self.assertEqual(run_function_call({"name": "run_code", "args": None}, sb)["error"],
                         "the tool input has no string 'code'")


class SandboxSourceTest(unittest.TestCase):
    def test_given_sandbox_is_not_closed(self):
        sb = FakeSandbox()
        src = _run_code.SandboxSource(sb)
        self.assertIs(src.get(), sb)
        src.close()
        self.assertFalse(sb.closed)


class OpenAIAgentsStandInTest(unittest.TestCase):
    def test_function_tool_wiring(self):
        @dataclass
        class FunctionTool:  # the fields podflare_code_interpreter passes
            name: str
            description: str
            params_json_schema: dict
            on_invoke_tool: object
            strict_json_schema: bool = True

        agents = types.ModuleType("agents")
        agents.FunctionTool = FunctionTool
        with mock.patch.dict(sys.modules, {"agents": agents}):
            from podflare.integrations.openai_agents import podflare_code_interpreter

            sb = FakeSandbox()
            tool = podflare_code_interpreter(sandbox=sb)
        self.assertEqual((tool.name, tool.strict_json_schema), ("run_code", False))
        text = asyncio.run(tool.on_invoke_tool(None, '{"code": "print(1)"}'))
        self.assertEqual(text, "stdout:\nran print(1)\n\nstderr:\n\nexit_code: 0")


class LangChainStandInTest(unittest.TestCase):
    def test_tool_class_runs_and_closes_its_own_sandbox(self):
        try:
            import pydantic
        except ImportError:  # a skip would count as a pass: scripts/setup-host.sh installs it
            self.fail("pydantic is not installed: run scripts/setup-host.sh (Debian's python3-pydantic)")

        class BaseTool(pydantic.BaseModel):  # the part of langchain_core's BaseTool the adapter uses
            def invoke(self, args):
                return self._run(**args)

        tools = types.ModuleType("langchain_core.tools")
        tools.BaseTool = BaseTool
        made = []

        def fake_sandbox():
            made.append(FakeSandbox())
            return made[-1]

        with mock.patch.dict(sys.modules, {"langchain_core": types.ModuleType("langchain_core"),
                                           "langchain_core.tools": tools}):
            from podflare.integrations import langchain

            langchain._built.clear()
            PodflareTool = langchain.PodflareTool
            langchain._built.clear()
        with mock.patch("podflare.sandbox.Sandbox", side_effect=fake_sandbox):
            tool = PodflareTool()
            tool.invoke({"code": "a = 1"})
            tool.invoke({"code": "print(a)", "language": "python"})
            tool.close()
        self.assertEqual(len(made), 1)
        self.assertEqual(made[0].calls, [("a = 1", "python"), ("print(a)", "python")])
        self.assertTrue(made[0].closed)


if __name__ == "__main__":
    unittest.main()
