using Reasoner.Core.Prompts;
using Reasoner.Core.Trees;
using Reasoner.Tests.Models;
using Reasoner.Training.Preference;

namespace Reasoner.Tests.Training;

public class StepPairDataTests
{
    private static readonly PromptLibrary Prompts = new(PromptLibrary.FindDefaultRoot());

    private static PreferenceTree Tree(string solvePrompt = "bare")
    {
        var tree = SampleTrees.Arithmetic();
        return new PreferenceTree
        {
            Problem = tree.Problem,
            ModelId = tree.ModelId,
            Search = new SearchSettings("mcts", new Dictionary<string, string> { [Reasoner.Core.Prompts.SolvePromptStyles.Setting] = solvePrompt }),
            Nodes = tree.Nodes,
        };
    }

    [Fact]
    public void MctsDpoPairsCarryThePolicysPromptAndHowEachSideEnds()
    {
        var tree = Tree();
        var head = Prompts.RenderSolve(tree.Problem, bare: true);
        var pairs = StepPairData.FromTree(tree, Prompts, StepPairOptions.MctsDpo).ToList();

        // Along the most visited path (root → a → a1): the root's children, best a against worst c by Q; then a1 against a2.
        Assert.Equal(2, pairs.Count);
        Assert.Equal(head, pairs[0].Prompt);
        Assert.Equal(new PairSide("Let x = 2.\n", EndsWithEos: false, Visits: 10), pairs[0].Chosen);
        // c's only child is merged into it (MCTS-DPO's single-child chains); that child ended the solution.
        Assert.Equal(new PairSide("I am unsure.\nMaybe it is four-ish?", EndsWithEos: true, Visits: 2), pairs[0].Rejected);
        Assert.Equal(head + "Let x = 2.\n", pairs[1].Prompt);
        Assert.Equal("So 2x = 4.\nThe answer is 4.", pairs[1].Chosen.Text);
        Assert.Equal("So 2x = 5.\nThe answer is 5.", pairs[1].Rejected.Text);
    }

    [Fact]
    public void ASolutionCutOffByALimitGetsNeitherDelimiterNorEndOfSequence()
    {
        var options = StepPairOptions.MctsDpo with { Groups = SiblingGroups.All };
        var b = StepPairData.FromTree(Tree(), Prompts, options).Single(p => p.Prompt.EndsWith("Let x = 3.\n"));
        Assert.Equal(new PairSide("So 2x = 7 and", EndsWithEos: false, Visits: 1), b.Rejected);
        Assert.True(b.Chosen.EndsWithEos);
    }

    [Fact]
    public void TokensArePromptThenEachSideWithEndOfSequenceWhereTheSolutionEnded()
    {
        var tokenizer = TinyModels.ArithmeticTokenizer;
        var text = StepPairData.FromTree(Tree(), Prompts, StepPairOptions.MctsDpo).First();
        var pair = StepPairData.Tokenize(text, tokenizer);
        Assert.Equal(tokenizer.Encode(text.Prompt), pair.Prompt);
        Assert.Equal(tokenizer.Encode("Let x = 2.\n"), pair.Chosen);
        Assert.Equal([.. tokenizer.Encode("I am unsure.\nMaybe it is four-ish?"), tokenizer.EosId], pair.Rejected);
        Assert.Equal(pair.Prompt.Length, pair.ChosenSequence.PromptLength);
        Assert.Equal(pair.Prompt.Length + pair.Rejected.Length, pair.RejectedSequence.Length);
        Assert.Equal(10, pair.ChosenVisits);
        Assert.Equal(2, pair.RejectedVisits);
    }

    [Fact]
    public void FewShotRunsGetTheFamilysFewShotPromptAndEndFinishedSolutionsAtTheDelimiter()
    {
        var pairs = StepPairData.FromTree(Tree("few-shot"), Prompts, StepPairOptions.MctsDpo).ToList();
        Assert.Equal(Prompts.RenderSolve(SampleTrees.Arithmetic().Problem, bare: false), pairs[0].Prompt);
        Assert.Contains("step by step", pairs[0].Prompt);
        // A few-shot-prompted model stops a finished solution at the step delimiter, not with end-of-sequence.
        Assert.Equal(new PairSide("I am unsure.\nMaybe it is four-ish?\n", EndsWithEos: false, Visits: 2), pairs[0].Rejected);
        Assert.Equal("So 2x = 4.\nThe answer is 4.\n", pairs[1].Chosen.Text);
    }

    [Fact]
    public void FailedTreesGiveNoPairsAndATreeWithoutItsPromptSettingIsNamed()
    {
        var failed = Tree();
        failed.Status = TreeStatus.Failed;
        Assert.Empty(StepPairData.FromTree(failed, Prompts, StepPairOptions.MctsDpo));

        var e = Assert.Throws<InvalidDataException>(() => StepPairData.FromTree(SampleTrees.Arithmetic(), Prompts, StepPairOptions.MctsDpo).ToList());
        Assert.Contains("p1", e.Message);
        Assert.Contains(Reasoner.Core.Prompts.SolvePromptStyles.Setting, e.Message);
    }
}
