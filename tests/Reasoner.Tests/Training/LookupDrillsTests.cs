using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Tasks;
using Reasoner.Models.Checkpoints;
using Reasoner.Training.Pretraining;

namespace Reasoner.Tests.Training;

public class LookupDrillsTests
{
    private static readonly PromptLibrary Prompts = new(PromptLibrary.FindDefaultRoot());

    [Fact]
    public void AReverseDrillAsksEveryStatementWithAUniquePredicateForItsSubject()
    {
        var tokenizer = CheckpointLoader.LoadTokenizer(BuiltinModel.Locate());
        var drills = new LookupDrills(Prompts.Get(PromptLibrary.LookupBare));
        // "is a jompus" is the predicate of two statements (Sally's and Alex's): whose subject is asked is not unique.
        var problem = new Problem("p", BuiltinTasks.Logic,
            "Every jompus is not shy. Sally is a jompus. Every zumpus is not big. Alex is a jompus. Every jompus is big. Every zumpus is a lorpus. Is Sally big?",
            "yes", AnswerKind.YesNo);

        var drill = drills.EncodeReverse(problem, new Random(7), tokenizer)!;

        var prompt = tokenizer.Decode(drill.Tokens[..drill.PromptLength]);
        Assert.Equal(drills.Prompt(problem), prompt);
        Assert.Equal(tokenizer.EosId, drill.Tokens[^1]);
        var lines = tokenizer.Decode(drill.Tokens[drill.PromptLength..^1]).Split('\n');
        Assert.Equal(["Which is a lorpus? zumpus.", "Which is big? jompus.", "Which is not big? zumpus.", "Which is not shy? jompus."], lines.Order());
        // The order is the seed's: another seed shuffles the same lines, the same seed gives the same drill.
        Assert.Equal(drill.Tokens, drills.EncodeReverse(problem, new Random(7), tokenizer)!.Tokens);
        Assert.Equal(lines.Order(), Enumerable.Range(0, 8).SelectMany(s => tokenizer.Decode(drills.EncodeReverse(problem, new Random(s), tokenizer)!.Tokens[drill.PromptLength..^1]).Split('\n')).Distinct().Order());

        // A quiz asks every property rule by subject and property; links and facts are not asked.
        var quiz = drills.EncodeQuiz(problem, new Random(7), tokenizer)!;
        Assert.Equal(["Is every jompus big? yes.", "Is every jompus shy? no.", "Is every zumpus big? no."],
            tokenizer.Decode(quiz.Tokens[quiz.PromptLength..^1]).Split('\n').Order());

        // "big" is ruled on for jompus and zumpus: those lines are contested; "shy" only for jompus.
        Assert.Equal([("Is every jompus big?", true), ("Is every jompus shy?", false), ("Is every zumpus big?", true)],
            LookupDrills.QuizLines(problem, new Random(7)).Select(l => (l.Ask, l.Contested)).Order());

        // The asked-property drill writes out the rules about the property the question asks ("big"), and no other.
        var asked = drills.EncodeAsked(problem, new Random(7), tokenizer)!;
        Assert.Equal(["Every jompus is big.", "Every zumpus is not big."], tokenizer.Decode(asked.Tokens[asked.PromptLength..^1]).Split('\n').Order());
        Assert.Equal([("Every jompus is", "big"), ("Every zumpus is", "not big")], LookupDrills.AskedPropertyLines(problem, new Random(7)).Select(l => (l.Ask, l.Answer)).Order());

        // No statement with a predicate of its own: nothing to ask.
        var twins = problem with { Question = "Sally is a jompus. Alex is a jompus. Is Sally big?" };
        Assert.Null(drills.EncodeReverse(twins, new Random(7), tokenizer));
        Assert.Null(drills.EncodeQuiz(twins, new Random(7), tokenizer));
        Assert.Null(drills.EncodeAsked(twins, new Random(7), tokenizer));
    }

    [Fact]
    public void DrillSharesOutsideZeroToOneAreRefused()
    {
        var settings = new PretrainSettings { OutputDirectory = "unused", Steps = 1, Tasks = TaskMix.Parse("logic") };
        foreach (var share in new[] { 0.0, 0.5, 1.0 })
        {
            (settings with { ReverseDrillShare = share }).Validate();
            (settings with { QuizDrillShare = share }).Validate();
            (settings with { AskedDrillShare = share }).Validate();
            (settings with { RuleClozeShare = share }).Validate();
        }
        foreach (var share in new[] { -0.1, 1.5 })
        {
            Assert.Throws<ArgumentException>(() => (settings with { ReverseDrillShare = share }).Validate());
            Assert.Throws<ArgumentException>(() => (settings with { QuizDrillShare = share }).Validate());
            Assert.Throws<ArgumentException>(() => (settings with { AskedDrillShare = share }).Validate());
            Assert.Throws<ArgumentException>(() => (settings with { RuleClozeShare = share }).Validate());
        }
    }
}
