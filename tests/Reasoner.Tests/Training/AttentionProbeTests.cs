using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Tasks;
using Reasoner.Models.Checkpoints;
using Reasoner.Training.Pretraining;

namespace Reasoner.Tests.Training;

public class AttentionProbeTests
{
    private static readonly PromptLibrary Prompts = new(PromptLibrary.FindDefaultRoot());

    // Gold chain: jompus → lorpus → fompus, not small; bompus has the other rule about small.
    private static readonly Problem Fae = new("logic-fae", BuiltinTasks.Logic,
        "Is Fae small? Every lorpus is a shumpus. Fae is a jompus. Every jompus is a lorpus. Every fompus is not small. "
        + "Every lorpus is a fompus. Every bompus is small. Every fompus is a zumpus.", "no", AnswerKind.YesNo)
    {
        ReferenceSteps =
        [
            "Fae is a jompus. Every jompus is a lorpus. So Fae is a lorpus.",
            "Fae is a lorpus. Every lorpus is a fompus. So Fae is a fompus.",
            "Fae is a fompus. Every fompus is not small. So Fae is not small.",
            "The answer is no.",
        ],
    };

    [Fact]
    public void TheQueryIsTheIsBeforeThePolarityAndEachQuestionTokenHasItsRegion()
    {
        var tokenizer = CheckpointLoader.LoadTokenizer(BuiltinModel.Locate());
        var corpus = new SolutionCorpus(Prompts.Get(PromptLibrary.SolveBare));

        var (tokens, query, regionOf) = AttentionProbe.Locate(Fae, corpus.Encode(Fae, tokenizer), tokenizer)!.Value;

        Assert.Equal(" is", tokenizer.Decode([tokens[query]]));
        Assert.Equal(" not", tokenizer.Decode([tokens[query + 1]]));
        Assert.EndsWith("So Fae is a fompus.\nFae is a fompus. Every fompus is", tokenizer.Decode(tokens[..(query + 1)]));
        Assert.Equal(query + 1, regionOf.Length);
        string Words(AttentionRegion region) => string.Concat(Enumerable.Range(0, query + 1).Where(t => regionOf[t] == region).Select(t => tokenizer.Decode([tokens[t]])));
        Assert.Equal(" small", Words(AttentionRegion.AskedProperty));
        Assert.Equal(" fompus", Words(AttentionRegion.RuleSubject));
        Assert.Equal(" not small", Words(AttentionRegion.RuleWords));
        Assert.Equal(" Every is.", Words(AttentionRegion.RuleFrame));
        Assert.Equal(" small", Words(AttentionRegion.ContestedWords));
        Assert.Equal(" Every bompus is.", Words(AttentionRegion.ContestedRule));
        // fompus's link to zumpus, whose full stop shares a token with the line break ending the question; "Every lorpus
        // is a fompus." is lorpus's rule, not fompus's.
        Assert.Equal(" Every fompus is a zumpus.\n", Words(AttentionRegion.SubjectsOtherRules));
        Assert.StartsWith("Fae is a jompus.", Words(AttentionRegion.Solution));
        Assert.EndsWith("Every fompus is", Words(AttentionRegion.Solution));

        // A solution citing a rule the question does not hold, or no property rule at all, has nothing to probe.
        var invented = Fae with { ReferenceSteps = ["Fae is a jompus. Every jompus is not small. So Fae is not small.", "The answer is no."] };
        Assert.Null(AttentionProbe.Locate(invented, corpus.Encode(invented, tokenizer), tokenizer));
        Assert.Null(AttentionProbe.Locate(Fae with { ReferenceSteps = ["The answer is no."] }, corpus.Encode(Fae with { ReferenceSteps = ["The answer is no."] }, tokenizer), tokenizer));
    }

    [Fact]
    public void EachHeadsSharesAddUpToItsWholeAttention()
    {
        using var model = CheckpointLoader.LoadModel(BuiltinModel.Locate());
        var tokenizer = CheckpointLoader.LoadTokenizer(BuiltinModel.Locate());
        var corpus = new SolutionCorpus(Prompts.Get(PromptLibrary.SolveBare));
        var problems = BuiltinTasks.TestSet(BuiltinTasks.Logic).Take(6).Append(Fae).ToArray();

        var profile = AttentionProbe.Measure(model, tokenizer, problems, corpus);

        Assert.Equal(problems.Length, profile.Problems); // every built-in solution ends with a property rule
        Assert.Equal((model.Config.NumHiddenLayers, model.Config.NumAttentionHeads), (profile.Layers, profile.Heads));
        Assert.InRange(profile.PolarityRight, 0, profile.Problems);
        for (int layer = 0; layer < profile.Layers; layer++)
            for (int head = 0; head < profile.Heads; head++)
            {
                var shares = Enumerable.Range(0, Enum.GetValues<AttentionRegion>().Length).Select(r => profile.Mass[layer, head, r]).ToArray();
                Assert.InRange(shares.Sum(), 1 - 1e-4, 1 + 1e-4);
                Assert.All(shares, s => Assert.InRange(s, 0, 1 + 1e-6)); // fp32 softmax rows sum to 1 within rounding
                Assert.InRange(profile.SubjectAtRule[layer, head], 0, 1 + 1e-4);
            }
        // The query itself is in the solution, so every head can put weight there; some head looks at the question too.
        Assert.Contains(Enumerable.Range(0, profile.Layers * profile.Heads), i => profile.Mass[i / profile.Heads, i % profile.Heads, (int)AttentionRegion.Rest] > 0.1);
    }
}
