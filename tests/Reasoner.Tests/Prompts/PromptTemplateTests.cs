using Reasoner.Core.Prompts;

namespace Reasoner.Tests.Prompts;

public class PromptTemplateTests
{
    [Fact]
    public void RendersPlaceholdersAndKeepsTheRestVerbatim()
    {
        var template = new PromptTemplate("t.txt", "Q: {{question}}\n{single} }} {{step}} and {{question}} again\n");

        Assert.Equal(["question", "step"], template.Placeholders);
        Assert.Equal("Q: 2+2?\n{single} }} S1 and 2+2? again\n",
            template.Render(new Dictionary<string, string> { ["question"] = "2+2?", ["step"] = "S1" }));
    }

    [Fact]
    public void FourBracesAreALiteralPair()
    {
        var template = new PromptTemplate("t.txt", "set {{{{x}} = {{value}}");

        Assert.Equal(["value"], template.Placeholders);
        Assert.Equal("set {{x}} = 1", template.Render(new Dictionary<string, string> { ["value"] = "1" }));
    }

    [Fact]
    public void ValuesAreNeverParsed()
    {
        var template = new PromptTemplate("t.txt", "{{question}}");
        Assert.Equal("{{step}} {{{{", template.Render(new Dictionary<string, string> { ["question"] = "{{step}} {{{{" }));
    }

    [Fact]
    public void MissingValueNamesFileAndPlaceholder()
    {
        var template = new PromptTemplate("prompts/self-eval.txt", "{{question}} {{steps}} {{step}}");

        var error = Assert.Throws<PromptTemplateException>(() => template.Render(new Dictionary<string, string> { ["question"] = "q" }));

        Assert.Equal("prompts/self-eval.txt: no value for placeholder '{{steps}}', '{{step}}'", error.Message);
    }

    [Fact]
    public void UnknownValueNamesFileAndPlaceholder()
    {
        var template = new PromptTemplate("prompts/math/solve.txt", "{{question}}");

        var error = Assert.Throws<PromptTemplateException>(() =>
            template.Render(new Dictionary<string, string> { ["question"] = "q", ["choices"] = "(A) x" }));

        Assert.Equal("prompts/math/solve.txt: has no placeholder '{{choices}}'; it has '{{question}}'", error.Message);
    }

    [Theory]
    [InlineData("line one\nQ: {{question", "t.txt:2: '{{' is never closed")]
    [InlineData("{{Question}}", "t.txt:1: '{{Question}}' is not a placeholder")]
    [InlineData("{{ question }}", "t.txt:1: '{{ question }}' is not a placeholder")]
    [InlineData("{{}}", "t.txt:1: '{{}}' is not a placeholder")]
    public void MalformedPlaceholdersAreRefusedWithTheirLine(string text, string message) =>
        Assert.StartsWith(message, Assert.Throws<PromptTemplateException>(() => new PromptTemplate("t.txt", text)).Message);
}
