using System.Text.RegularExpressions;
using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Tasks;

namespace Reasoner.Tests.Prompts;

public partial class PromptLibraryTests
{
    /// <summary>The placeholders prompts/README.md documents for each prompt file.</summary>
    private static readonly Dictionary<string, string[]> Documented = new()
    {
        ["commonsense/solve"] = ["question"],
        ["logic/solve"] = ["question"],
        ["judge-pair"] = ["question", "first", "second"],
        ["lookup-bare"] = ["question"],
        ["math/solve"] = ["question"],
        ["self-eval"] = ["question", "steps", "step"],
        ["self-eval-bare"] = ["question", "steps", "step"],
        ["solve-bare"] = ["question"],
        ["yesno/solve"] = ["question"],
    };

    private readonly PromptLibrary _library = new(PromptLibrary.FindDefaultRoot());

    [Fact]
    public void FindsTheRepositoryPromptsFolder()
    {
        Assert.Equal("prompts", Path.GetFileName(_library.Root));
        Assert.True(File.Exists(Path.Combine(_library.Root, "..", "Reasoner.sln")));
    }

    [Fact]
    public void EveryPromptFileRendersWithItsDocumentedPlaceholders()
    {
        var readme = File.ReadAllText(Path.Combine(_library.Root, "README.md"));

        Assert.Equal(Documented.Keys.Order(StringComparer.Ordinal), _library.Names());
        foreach (var (name, placeholders) in Documented)
        {
            var template = _library.Get(name);
            Assert.Equal(placeholders.Order(), template.Placeholders.Order());
            var rendered = template.Render(placeholders.ToDictionary(p => p, p => $"<{p}>"));
            Assert.DoesNotContain("{{", rendered);
            Assert.Contains($"`{name}`", readme);
            Assert.All(placeholders, p => Assert.Contains($"<{p}>", rendered));
        }
    }

    [Theory]
    [InlineData("math/solve")]
    [InlineData("logic/solve")]
    [InlineData("commonsense/solve")]
    [InlineData("yesno/solve")]
    [InlineData("solve-bare")]
    public void SolvePromptsEndWhereTheFirstStepBegins(string name) =>
        Assert.EndsWith("Question: Q?\nAnswer:\n", Render(name, ("question", "Q?")));

    [Fact]
    public void SelfEvalEndsAtTheOpenParenthesisOfTheVerdict()
    {
        var rendered = Render("self-eval", ("question", "Q?"), ("steps", PromptLibrary.FormatSteps([])), ("step", "S1"));

        Assert.EndsWith("Question: Q?\nSteps so far:\n(none)\nLatest step:\nS1\nIs the latest step correct?\nAnswer: (", rendered);
        Assert.Contains("(A) correct", rendered);
        Assert.Contains("(B) incorrect", rendered);
        // The bare prompt is the few-shot prompt's last block: a model trained on it sees the same text either way.
        var bare = Render("self-eval-bare", ("question", "Q?"), ("steps", PromptLibrary.FormatSteps([])), ("step", "S1"));
        Assert.Equal("Question: Q?\nSteps so far:\n(none)\nLatest step:\nS1\nIs the latest step correct?\nAnswer: (", bare);
        Assert.EndsWith("\n\n" + bare, rendered);
    }

    [Fact]
    public void MathExamplesAreArithTrainProblemsWithCorrectArithmetic()
    {
        var examples = Examples(_library.Get("math/solve")).ToList();

        Assert.InRange(examples.Count, 2, 3);
        foreach (var (question, steps) in examples)
        {
            Assert.Equal(Split.Train, BuiltinTasks.SplitOf(StableHash.Fnv1a64(question)));
            var results = steps[..^1].Select(step =>
            {
                var e = Assert.Single(Equation().Matches(step));
                var (a, op, b, c) = (int.Parse(e.Groups[1].Value), e.Groups[2].Value, int.Parse(e.Groups[3].Value), int.Parse(e.Groups[4].Value));
                Assert.Equal(op switch { "+" => a + b, "-" => a - b, "*" => a * b, _ => a / b }, c);
                return c;
            }).ToList();
            Assert.Equal($"The answer is {results[^1]}.", steps[^1]);
        }
    }

    [Fact]
    public void LogicExamplesAreNotTestProblems()
    {
        var examples = Examples(_library.Get("logic/solve")).ToList();
        var test = BuiltinTasks.TestSet("logic").Select(p => p.Question).ToHashSet();

        Assert.Equal(2, examples.Count);
        Assert.All(examples, e => Assert.DoesNotContain(e.Question, test));
        Assert.All(examples, e => Assert.Matches("^The answer is (yes|no)\\.$", e.Steps[^1]));
    }

    [Theory]
    [InlineData("arith", "math/solve")]
    [InlineData("gsm8k", "math/solve")]
    [InlineData("math", "math/solve")]
    [InlineData("logic", "logic/solve")]
    [InlineData("arc", "commonsense/solve")]
    [InlineData("csqa", "commonsense/solve")]
    [InlineData("strategyqa", "yesno/solve")]
    public void EveryFamilyHasASolvePrompt(string family, string prompt)
    {
        Assert.Equal(prompt, PromptLibrary.SolvePromptFor(family));
        Assert.NotNull(_library.Get(prompt));
    }

    [Fact]
    public void UnknownFamilyAndBadNamesAreRefused()
    {
        Assert.Throws<ArgumentException>(() => PromptLibrary.FolderFor("chess"));
        Assert.Throws<ArgumentException>(() => _library.Get("../README"));
        Assert.Throws<ArgumentException>(() => _library.Get("/etc/passwd"));
        Assert.Contains("math/missing", Assert.Throws<FileNotFoundException>(() => _library.Get("math/missing")).Message);
    }

    [Fact]
    public void FormatQuestionAppendsLetteredChoices()
    {
        var choice = new Problem("c1", "csqa", "Where is money kept?", "A", AnswerKind.Choice) { Choices = [new("A", "bank"), new("B", "mall")] };
        var plain = new Problem("a1", "arith", "What is 2 + 3?", "5", AnswerKind.Number);

        Assert.Equal("Where is money kept?\nChoices: (A) bank (B) mall", PromptLibrary.FormatQuestion(choice));
        Assert.Equal("What is 2 + 3?", PromptLibrary.FormatQuestion(plain));
        Assert.Equal("S1\nS2", PromptLibrary.FormatSteps(["S1", "S2"]));
    }

    private string Render(string name, params (string Name, string Value)[] values) =>
        _library.Get(name).Render(values.ToDictionary(v => v.Name, v => v.Value));

    /// <summary>The worked examples of a few-shot prompt: each "Question:" line and the step lines after "Answer:".</summary>
    private static IEnumerable<(string Question, string[] Steps)> Examples(PromptTemplate template)
    {
        var text = File.ReadAllText(template.Source);
        foreach (Match block in ExampleBlock().Matches(text))
        {
            if (block.Groups["question"].Value == "{{question}}") continue;
            yield return (block.Groups["question"].Value, block.Groups["steps"].Value.TrimEnd('\n').Split('\n'));
        }
    }

    [GeneratedRegex(@"^Question: (?<question>.+)\nAnswer:\n(?<steps>(?:.+\n)*)", RegexOptions.Multiline)]
    private static partial Regex ExampleBlock();

    [GeneratedRegex(@"(\d+) ([-+*/]) (\d+) = (\d+)")]
    private static partial Regex Equation();
}
