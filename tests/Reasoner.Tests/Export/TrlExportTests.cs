using Reasoner.Core.Export;
using Reasoner.Core.Problems;
using Reasoner.Core.Trees;
using static Reasoner.Tests.Export.JsonlOutput;

namespace Reasoner.Tests.Export;

public class TrlExportTests
{
    private const string Head = "What is 2x if x = 2?\n";

    [Fact]
    public void PreferenceLinesHaveExactlyPromptChosenRejected()
    {
        var tree = SampleTrees.Arithmetic();
        var (lines, counts) = Capture(s => TrlPreferenceExport.Write([tree], s, new TrlPreferenceOptions()));

        Assert.Equal(new ExportCounts(1, 1, 4), counts);
        Assert.All(lines, l => Assert.Equal(["chosen", "prompt", "rejected"], Names(l)));
        Assert.Equal((Head, "Let x = 2.", "Let x = 3."),
            (lines[0].GetProperty("prompt").GetString(), lines[0].GetProperty("chosen").GetString(), lines[0].GetProperty("rejected").GetString()));
        Assert.Equal((Head + "Let x = 2.\n", "So 2x = 4.", "So 2x = 5."),
            (lines[3].GetProperty("prompt").GetString(), lines[3].GetProperty("chosen").GetString(), lines[3].GetProperty("rejected").GetString()));
    }

    [Fact]
    public void WithContinuationsPromptPlusCompletionIsTheExactSolutionText()
    {
        var tree = SampleTrees.Arithmetic();
        var options = new TrlPreferenceOptions { Pairs = StepPairOptions.TreePlv with { Continuation = ContinuationMode.BestChildToLeaf } };
        var (lines, _) = Capture(s => TrlPreferenceExport.Write([tree], s, options));

        var solutions = tree.Terminals.Select(t => Head + tree.StepsText(t)).ToHashSet();
        foreach (var line in lines)
        {
            var prompt = line.GetProperty("prompt").GetString();
            Assert.Contains(prompt + line.GetProperty("chosen").GetString(), solutions);
            Assert.Contains(prompt + line.GetProperty("rejected").GetString(), solutions);
        }
        Assert.Equal(Head + "Let x = 2.\nSo 2x = 4.\nThe answer is 4.",
            lines[0].GetProperty("prompt").GetString() + lines[0].GetProperty("chosen").GetString());
    }

    [Fact]
    public void PromptsListAnswerChoicesAndKeepNonAsciiTextReadable()
    {
        var tree = new PreferenceTree
        {
            Problem = new Problem("c1", "csqa", "Où est « le café » ½?", "B", AnswerKind.Choice)
            {
                Choices = [new AnswerChoice("A", "ici"), new AnswerChoice("B", "là-bas")],
            },
            ModelId = "tiny-llama",
            Search = new SearchSettings("best-first", new Dictionary<string, string>()),
        };
        SampleTrees.Step(tree, tree.Root, "C'est là-bas → B.", mc: 1, q: 0, visits: 1);
        SampleTrees.Step(tree, tree.Root, "Ici.", mc: 0, q: 0, visits: 1);
        using var stream = new MemoryStream();
        TrlPreferenceExport.Write([tree], stream, new TrlPreferenceOptions());
        var text = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        Assert.Equal("{\"prompt\":\"Où est « le café » ½?\\n(A) ici\\n(B) là-bas\\n\",\"chosen\":\"C'est là-bas → B.\",\"rejected\":\"Ici.\"}\n", text);
    }

    [Fact]
    public void FailedTreesAreNotExportedAsTrainingData()
    {
        var failed = SampleTrees.Arithmetic();
        failed.Status = TreeStatus.Failed;
        var (lines, counts) = Capture(s => TrlPreferenceExport.Write([failed, SampleTrees.Empty("p2")], s, new TrlPreferenceOptions()));
        Assert.Empty(lines);
        Assert.Equal(new ExportCounts(2, 0, 0), counts);
        (lines, _) = Capture(s => TrlStepwiseExport.Write([failed], s, new TrlStepwiseOptions()));
        Assert.Empty(lines);
    }

    [Fact]
    public void StepwiseLinesHaveExactlyPromptCompletionsLabels()
    {
        var tree = SampleTrees.Arithmetic();
        var (lines, counts) = Capture(s => TrlStepwiseExport.Write([tree], s, new TrlStepwiseOptions()));

        Assert.Equal(new ExportCounts(1, 1, 5), counts);
        Assert.All(lines, l => Assert.Equal(["completions", "labels", "prompt"], Names(l)));
        Assert.All(lines, l => Assert.Equal(Head, l.GetProperty("prompt").GetString()));
        var byLast = lines.ToDictionary(l => Strings(l.GetProperty("completions"))[^1]);
        var correct = byLast["The answer is 4."];
        Assert.Equal(["Let x = 2.", "So 2x = 4.", "The answer is 4."], Strings(correct.GetProperty("completions")));
        Assert.Equal([true, true, true], Labels(correct));
        // Monte Carlo labels, threshold 0: the wrong final step has no successful roll-out.
        Assert.Equal([true, true, false], Labels(byLast["The answer is 5."]));
        // c1 has no Monte Carlo value, so its path falls back to the outcome: no correct answer.
        Assert.Equal([false, false], Labels(byLast["Maybe it is four-ish?"]));
    }

    [Fact]
    public void StepwiseLabelsUseTheThresholdOrTheOutcomeWhenStepsHaveNoValues()
    {
        var tree = SampleTrees.Arithmetic();
        var (lines, _) = Capture(s => TrlStepwiseExport.Write([tree], s, new TrlStepwiseOptions { Threshold = 0.5 }));
        Assert.Equal([true, false, false], Labels(lines.Single(l => Strings(l.GetProperty("completions"))[^1] == "The answer is 5.")));

        foreach (var node in tree.Nodes) node.MonteCarloValue = null;
        (lines, _) = Capture(s => TrlStepwiseExport.Write([tree], s, new TrlStepwiseOptions()));
        var labelsByLast = lines.ToDictionary(l => Strings(l.GetProperty("completions"))[^1], Labels);
        Assert.Equal([true, true, true], labelsByLast["The answer is 4."]);
        Assert.Equal([false, false, false], labelsByLast["The answer is 5."]);
        Assert.Equal([false, false], labelsByLast["So 2x = 7 and"]);
    }

    private static bool[] Labels(System.Text.Json.JsonElement line) =>
        [.. line.GetProperty("labels").EnumerateArray().Select(e => e.GetBoolean())];
}
