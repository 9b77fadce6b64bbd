using Reasoner.Core.Judging;
using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Batching;

namespace Reasoner.Training.Pretraining;

/// <summary>One self-evaluation example: the prompt up to the judged step, the step, and whether gold labels call it sound.</summary>
public sealed record SelfEvalExample(string ProblemId, IReadOnlyList<string> Prefix, string Step, bool Sound);

/// <summary>
/// Self-evaluation as training text, so that a model trained from scratch learns what MCTS's self-evaluation term asks
/// of it (MCTS-DPO, arXiv 2405.00451 §3.1: P("correct") under an evaluation prompt). Each example takes a prefix of a
/// reference solution, in a quarter of cases with one of its steps corrupted so that steps after a mistake are judged
/// too, and as the latest step the reference's next step or a corruption of it (<see cref="StepCorruptor"/>). The step
/// judge labels it, in the context of the prefix: (A) when sound, (B) when not. The text is tokenized exactly as
/// <c>SelfEvaluationScorer</c> scores it (prompt up to the step, then step + rest of the prompt + letter), and only the
/// last token, the answer letter, is a target, at <paramref name="answerWeight"/> (pretrain --self-eval-weight: one token
/// of a batch's thousands counts little at 1).
/// </summary>
public sealed class SelfEvalCorpus(PromptTemplate template, float answerWeight = 1)
{
    /// <summary>Share of examples whose prefix holds a corrupted step.</summary>
    private const double CorruptedPrefixShare = 0.25;

    /// <summary>Share of examples whose latest step is a corruption rather than the reference's step.</summary>
    private const double CorruptedStepShare = 0.5;

    public const string CorrectLabel = "A";
    public const string IncorrectLabel = "B";

    // A value no question or step contains, to cut the rendered prompt where the step goes (as the scorer does).
    private const string StepSlot = "\u0000step\u0000";

    public SelfEvalExample Example(Problem problem, Random random)
    {
        var reference = problem.ReferenceSteps ?? throw new ArgumentException($"problem {problem.Id} has no reference steps");
        int index = random.Next(reference.Count);
        var prefix = reference.Take(index).ToList();
        if (index > 0 && random.NextDouble() < CorruptedPrefixShare && Corrupt(problem, random.Next(index), random) is { } early)
            prefix[early.StepIndex] = early.Step;
        var step = random.NextDouble() < CorruptedStepShare ? Corrupt(problem, index, random)?.Step ?? reference[index] : reference[index];
        var sound = StepJudges.For(problem).JudgeSolution([.. prefix, step])[^1].IsSound;
        return new SelfEvalExample(problem.Id, prefix, step, sound);
    }

    /// <summary>The prompt text before the step, and the text after it up to the answer letter.</summary>
    public (string BeforeStep, string AfterStep) Frame(Problem problem, IReadOnlyList<string> prefix)
    {
        var rendered = template.Render(new Dictionary<string, string>
        {
            ["question"] = PromptLibrary.FormatQuestion(problem),
            ["steps"] = PromptLibrary.FormatSteps(prefix),
            ["step"] = StepSlot,
        });
        int slot = rendered.IndexOf(StepSlot, StringComparison.Ordinal);
        return (rendered[..slot], rendered[(slot + StepSlot.Length)..]);
    }

    public TrainingSequence Encode(Problem problem, SelfEvalExample example, ITextTokenizer tokenizer)
    {
        var (before, after) = Frame(problem, example.Prefix);
        var prompt = tokenizer.Encode(before);
        var continuation = tokenizer.Encode(example.Step + after + (example.Sound ? CorrectLabel : IncorrectLabel));
        int[] tokens = [.. prompt, .. continuation];
        return new TrainingSequence(tokens, tokens.Length - 1) { LossWeight = answerWeight };
    }

    /// <summary>Text for the tokenizer to learn from: the frame around a step, as examples render it.</summary>
    public string Text(Problem problem, SelfEvalExample example)
    {
        var (before, after) = Frame(problem, example.Prefix);
        return before + example.Step + after + (example.Sound ? CorrectLabel : IncorrectLabel);
    }

    /// <summary>Reference step <paramref name="index"/> broken some way that applies to it; null when a few tries find none.</summary>
    private static Corruption? Corrupt(Problem problem, int index, Random random)
    {
        var kinds = problem.Family == Core.Tasks.BuiltinTasks.Arith ? StepCorruptor.ArithKinds : StepCorruptor.LogicKinds;
        for (int attempt = 0; attempt < 8; attempt++)
            if (StepCorruptor.Corrupt(problem, index, kinds[random.Next(kinds.Count)], random) is { } broken)
                return broken;
        return null;
    }
}
