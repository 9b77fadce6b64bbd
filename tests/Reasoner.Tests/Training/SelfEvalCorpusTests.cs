using Reasoner.Core.Judging;
using Reasoner.Core.Prompts;
using Reasoner.Core.Tasks;
using Reasoner.Models;
using Reasoner.Training;
using Reasoner.Training.Pretraining;

namespace Reasoner.Tests.Training;

public class SelfEvalCorpusTests
{
    private static readonly PromptLibrary Prompts = new(PromptLibrary.FindDefaultRoot());

    [Theory]
    [InlineData("arith")]
    [InlineData("logic")]
    public void ExamplesAreLabelledByTheJudgeAndMixBothAnswers(string task)
    {
        var corpus = new SelfEvalCorpus(Prompts.Get(PromptLibrary.SelfEvalBare));
        var random = new Random(3);
        var examples = BuiltinTasks.Generate(task, Split.Train, seed: 9).Take(600).Select(p => (Problem: p, Example: corpus.Example(p, random))).ToList();

        foreach (var (problem, example) in examples)
            Assert.Equal(StepJudges.For(problem).JudgeSolution([.. example.Prefix, example.Step])[^1].IsSound, example.Sound);
        double soundShare = examples.Count(x => x.Example.Sound) / (double)examples.Count;
        Assert.InRange(soundShare, 0.3, 0.7);
        // Some prefixes hold a corrupted step, so that steps after a mistake are judged too.
        Assert.Contains(examples, x => x.Example.Prefix.Where((s, i) => s != x.Problem.ReferenceSteps![i]).Any());
        // Every kind of step is judged: first steps, middle ones and answers.
        Assert.Contains(examples, x => x.Example.Prefix.Count == 0);
        Assert.Contains(examples, x => x.Example.Step.StartsWith("The answer is", StringComparison.Ordinal));
    }

    [Fact]
    public void TheOnlyTargetIsTheAnswerLetterAfterTheScorersText()
    {
        var corpus = new SelfEvalCorpus(Prompts.Get(PromptLibrary.SelfEvalBare));
        var problem = BuiltinTasks.TestSet("arith")[0];
        var example = new SelfEvalExample(problem.Id, [problem.ReferenceSteps![0]], problem.ReferenceSteps![1], Sound: true);
        var tokenizer = Models.TinyModels.ArithmeticTokenizer;

        var sequence = corpus.Encode(problem, example, tokenizer);

        Assert.Equal(sequence.Tokens.Length - 1, sequence.PromptLength);
        // The text is the self-evaluation prompt with the step in place, answered A: what the scorer compares with B.
        var expected = Prompts.Get(PromptLibrary.SelfEvalBare).Render(new Dictionary<string, string>
        {
            ["question"] = PromptLibrary.FormatQuestion(problem),
            ["steps"] = problem.ReferenceSteps![0],
            ["step"] = problem.ReferenceSteps![1],
        }) + "A";
        Assert.Equal(expected, tokenizer.Decode(sequence.Tokens));
        Assert.EndsWith("(B", tokenizer.Decode(corpus.Encode(problem, example with { Sound = false }, tokenizer).Tokens));
        Assert.Equal(1f, sequence.LossWeight);

        // --self-eval-weight weighs the letter, and nothing else about the example changes.
        var weighted = new SelfEvalCorpus(Prompts.Get(PromptLibrary.SelfEvalBare), answerWeight: 20).Encode(problem, example, tokenizer);
        Assert.Equal(20f, weighted.LossWeight);
        Assert.Equal(sequence.Tokens, weighted.Tokens);
        Assert.Equal(sequence.PromptLength, weighted.PromptLength);
        Assert.Throws<ArgumentException>(() => new PretrainSettings { OutputDirectory = "unused", Steps = 1, SelfEvalWeight = 0 }.Validate());
        Assert.Throws<ArgumentException>(() => new PretrainSettings { OutputDirectory = "unused", Steps = 1, SelfEvalWeight = double.NaN }.Validate());
    }

    [Fact]
    public void TrainingFlopsFollowThePalmCount()
    {
        var config = Models.TinyModels.Config() with { NumHiddenLayers = 2, NumAttentionHeads = 4, HiddenSize = 32 };
        // 6·N·T + 12·L·(heads·head_dim)·T² per sequence: 6·1000·10 + 12·2·32·100, and the same for T = 5.
        double expected = 6.0 * 1000 * 10 + 12 * 2 * 32 * 100 + 6.0 * 1000 * 5 + 12 * 2 * 32 * 25;
        Assert.Equal(expected, TrainingFlops.ForSequences(config, 1000, [10, 5]));
        Assert.True(TrainingFlops.MeasureMatmulPeak(n: 128, repeats: 2) > 1e8);
    }

    [Fact]
    public void AWindowedPeakWeighsEachWindowsPeakByItsSeconds()
    {
        var measurements = new Queue<double>([100, 300, 200]);
        var peaks = new WindowedPeak(measurements.Dequeue);
        Assert.Equal(0, peaks.TimeWeighted);
        Assert.Equal(100, peaks.AfterWindow(1));
        Assert.Equal(300, peaks.AfterWindow(3));
        Assert.Equal((100 * 1 + 300 * 3) / 4.0, peaks.TimeWeighted);
        peaks.AfterWindow(0); // a measurement for no training time counts for the fastest only
        Assert.Equal(250, peaks.TimeWeighted);
        Assert.Equal(300, peaks.Fastest);
    }

    [Fact]
    public void MeasuringThePeakLeavesLibtorchsRandomStreamWhereItWas()
    {
        TorchSharp.torch.manual_seed(7);
        var expected = TorchSharp.torch.randn(4).data<float>().ToArray();
        TorchSharp.torch.manual_seed(7);
        using (var probe = new MatmulPeakProbe(n: 64)) Assert.True(probe.Measure(repeats: 2) > 0);
        Assert.True(TrainingFlops.MeasureMatmulPeak(n: 64, repeats: 1) > 0);
        Assert.Equal(expected, TorchSharp.torch.randn(4).data<float>().ToArray());
    }
}

public class LookupDrillTests
{
    [Fact]
    public void ADrillRestatesEveryStatementOfTheQuestionOnceInARandomOrder()
    {
        var problem = BuiltinTasks.TestSet("logic")[0];
        var statements = problem.Question.Split(". ").Select(s => s.TrimEnd('.')).Where(s => !s.Contains('?')).Select(s => s + ".").ToList();

        var a = LookupDrills.Target(problem, new Random(1)).Split('\n');
        var b = LookupDrills.Target(problem, new Random(2)).Split('\n');

        Assert.Equal(statements.Order(), a.Order());
        Assert.Equal(statements.Order(), b.Order());
        Assert.NotEqual(a, b);
        Assert.True(LookupDrills.Applies(problem));
        Assert.False(LookupDrills.Applies(BuiltinTasks.TestSet("arith")[0]));
    }

    [Fact]
    public void ARuleClozeAsksThePolarityOfAPropertyRuleWhoseSubjectHasNoOtherRule()
    {
        var tokenizer = Models.TinyModels.ArithmeticTokenizer; // byte-level: decodes any text back
        var drills = new LookupDrills(new PromptLibrary(PromptLibrary.FindDefaultRoot()).Get(PromptLibrary.LookupBare));
        int asked = 0, negated = 0;
        foreach (var problem in BuiltinTasks.TestSet("logic").Take(100))
        {
            var cloze = drills.EncodeCloze(problem, new Random(asked), tokenizer);
            if (cloze is null) continue;
            asked++;
            string prompt = tokenizer.Decode(cloze.Tokens[..cloze.PromptLength]);
            string target = tokenizer.Decode(cloze.Tokens[cloze.PromptLength..^1]);
            Assert.Equal(tokenizer.EosId, cloze.Tokens[^1]);
            Assert.StartsWith(drills.Prompt(problem), prompt);
            // The prompt ends with "Every C is", the target is the rest of that very rule, a property rule.
            var subject = System.Text.RegularExpressions.Regex.Match(prompt, @"Every (\w+) is$").Groups[1].Value;
            Assert.NotEqual("", subject);
            Assert.Contains($"Every {subject} is{target}", problem.Question);
            Assert.Matches(@"^( not)? \w+\.$", target);
            // No other rule has that subject, so the continuation is the only right one.
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(problem.Question, $@"Every {subject} is"));
            if (target.StartsWith(" not")) negated++;
            // The other polarity's first token: " not" for a rule without it, the property's first token for one with it.
            var other = target.StartsWith(" not") ? target[" not".Length..] : " not" + target;
            Assert.Equal(tokenizer.Encode(other)[0], LookupDrills.OtherPolarityFirstToken(cloze, tokenizer));
            Assert.NotEqual(cloze.Tokens[cloze.PromptLength], LookupDrills.OtherPolarityFirstToken(cloze, tokenizer));
        }
        Assert.InRange(asked, 80, 100);
        Assert.InRange(negated, asked / 4, 3 * asked / 4);
    }
}
