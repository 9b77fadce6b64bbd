using System.Globalization;
using System.Text.RegularExpressions;
using Reasoner.Core.Answers;
using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;

namespace Reasoner.Models.Backends;

public sealed record ReferenceSolutionOptions
{
    /// <summary>Chance that a sampled step is a plausible mistake instead of the next reference step.</summary>
    public double MistakeRate { get; init; } = 0.3;

    /// <summary>Time every request takes, to stand in for a real model's latency (in-flight work, graceful stops).</summary>
    public TimeSpan Latency { get; init; } = TimeSpan.Zero;
}

/// <summary>
/// A test and demo backend without weights (<c>--model reference</c>): it answers a problem by replaying the problem's
/// reference solution, and with <see cref="ReferenceSolutionOptions.MistakeRate"/> writes a plausible wrong step
/// instead (a changed number, a negated fact, a wrong final answer); a solution that went wrong ends with a wrong
/// answer. Self-evaluation judges a step correct (P(A) = 0.85) when the solution so far still follows the reference,
/// else 0.25. Sampling depends only on the request's seed, so searches over it are reproducible across processes,
/// which is what the pipeline's real-process tests need; it is not a language model and says nothing about one.
/// </summary>
/// <remarks>
/// It reads Reasoner's own prompt layouts: the problem is the one of <c>problems</c> whose question
/// (<see cref="PromptLibrary.FormatQuestion"/>) appears last in the prompt; in a solve prompt the steps so far follow
/// that question's <c>"\nAnswer:\n"</c>, one per line; a self-evaluation prompt ends with <c>"Latest step:\n"</c> after
/// <c>"Steps so far:\n"</c>. <c>problems</c> is asked on every request, so it can be the pipeline's problems in flight.
/// </remarks>
public sealed partial class ReferenceSolutionModel(Func<IEnumerable<Problem>> problems, ReferenceSolutionOptions? options = null) : ILanguageModel
{
    public const string SpecName = "reference";

    private const double JudgedRight = 0.85;
    private const double JudgedWrong = 0.25;
    private const string AnswerMarker = "\nAnswer:\n";
    private const string StepsSoFarMarker = "Steps so far:\n";
    private const string LatestStepMarker = "\nLatest step:\n";

    public ReferenceSolutionOptions Options { get; } = options ?? new ReferenceSolutionOptions();

    public string ModelId => string.Create(CultureInfo.InvariantCulture, $"{SpecName}:{Options.MistakeRate}");

    /// <summary>
    /// Reads <c>reference[:MISTAKE_RATE[:LATENCY_MS]]</c>, e.g. <c>reference</c>, <c>reference:0.2</c>,
    /// <c>reference:0.3:50</c>; null when <paramref name="spec"/> names another backend.
    /// </summary>
    public static ReferenceSolutionOptions? ParseSpec(string spec)
    {
        var parts = spec.Split(':');
        if (parts[0] != SpecName) return null;
        if (parts.Length > 3) throw new ArgumentException($"'{spec}': expected reference[:MISTAKE_RATE[:LATENCY_MS]]");
        var options = new ReferenceSolutionOptions();
        if (parts.Length > 1)
        {
            if (!double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) || rate is < 0 or > 1)
                throw new ArgumentException($"'{spec}': the mistake rate must be a number from 0 to 1");
            options = options with { MistakeRate = rate };
        }
        if (parts.Length > 2)
        {
            if (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var ms))
                throw new ArgumentException($"'{spec}': the latency must be whole milliseconds");
            options = options with { Latency = TimeSpan.FromMilliseconds(ms) };
        }
        return options;
    }

    public async Task<IReadOnlyList<Completion>> CompleteAsync(CompletionRequest request, CancellationToken cancel = default)
    {
        await WaitLatencyAsync(cancel);
        var (problem, at) = FindProblem(request.Prompt);
        var question = PromptLibrary.FormatQuestion(problem);
        var solutionStart = request.Prompt.IndexOf(question + AnswerMarker, at, StringComparison.Ordinal);
        var written = solutionStart < 0 ? [] : Lines(request.Prompt[(solutionStart + question.Length + AnswerMarker.Length)..]);
        var reference = ReferenceSteps(problem);
        return [.. Enumerable.Range(0, request.N).Select(i =>
        {
            var random = new Random(SampleSeed(request.Seed ?? 0, i));
            return request.Stop.Count > 0
                ? Step(problem, reference, written, random, request.MaxTokens)
                : Rollout(problem, reference, written, random, request.MaxTokens);
        })];
    }

    public async Task<IReadOnlyList<ScoredContinuation>> ScoreAsync(string prompt, IReadOnlyList<string> continuations, CancellationToken cancel = default)
    {
        await WaitLatencyAsync(cancel);
        var (problem, _) = FindProblem(prompt);
        var reference = ReferenceSteps(problem);
        var stepsStart = prompt.LastIndexOf(StepsSoFarMarker, StringComparison.Ordinal);
        var selfEval = stepsStart >= 0 && prompt.EndsWith(LatestStepMarker, StringComparison.Ordinal);
        IReadOnlyList<string> before = [];
        if (selfEval)
        {
            var listed = prompt[(stepsStart + StepsSoFarMarker.Length)..^LatestStepMarker.Length];
            before = listed == PromptLibrary.FormatSteps([]) ? [] : listed.Split('\n');
        }
        return [.. continuations.Select(continuation =>
        {
            var words = Words(continuation);
            var logProbs = Enumerable.Repeat(0.0, words.Length).ToArray();
            var letter = continuation.Length > 0 ? continuation[^1] : ' ';
            if (selfEval && logProbs.Length > 0 && letter is 'A' or 'B')
            {
                var step = continuation.Split('\n')[0];
                var right = FollowsReference([.. before, step], reference) ? JudgedRight : JudgedWrong;
                logProbs[^1] = Math.Log(letter == 'A' ? right : 1 - right);
            }
            return new ScoredContinuation(continuation, [.. Enumerable.Range(0, words.Length)], logProbs);
        })];
    }

    public void Dispose() { }

    private Task WaitLatencyAsync(CancellationToken cancel) =>
        Options.Latency > TimeSpan.Zero ? Task.Delay(Options.Latency, cancel) : Task.CompletedTask;

    private (Problem Problem, int At) FindProblem(string prompt)
    {
        Problem? found = null;
        int foundAt = -1, foundEnd = -1;
        foreach (var problem in problems())
        {
            var question = PromptLibrary.FormatQuestion(problem);
            var at = prompt.LastIndexOf(question, StringComparison.Ordinal);
            // The latest question wins (few-shot examples come first); of two ending together, the longer one.
            if (at >= 0 && (at + question.Length > foundEnd || (at + question.Length == foundEnd && at < foundAt)))
                (found, foundAt, foundEnd) = (problem, at, at + question.Length);
        }
        return found is null
            ? throw new InvalidOperationException("the reference backend was asked about a problem it does not know (not among the problems in flight)")
            : (found, foundAt);
    }

    private Completion Step(Problem problem, IReadOnlyList<string> reference, IReadOnlyList<string> written, Random random, int maxTokens)
    {
        var (text, probability) = NextStep(problem, reference, written, random);
        var isAnswer = AnswerExtractor.ExtractMarked(text, problem.Kind) is not null;
        return Tokens(text, probability, isAnswer ? FinishReason.EndOfSequence : FinishReason.Stop, maxTokens);
    }

    private Completion Rollout(Problem problem, IReadOnlyList<string> reference, IReadOnlyList<string> written, Random random, int maxTokens)
    {
        var steps = new List<string>();
        var probability = 1.0;
        while (true)
        {
            var (text, p) = NextStep(problem, reference, [.. written, .. steps], random);
            steps.Add(text);
            probability *= p;
            if (AnswerExtractor.ExtractMarked(text, problem.Kind) is not null || written.Count + steps.Count >= reference.Count)
                return Tokens(string.Join('\n', steps), probability, FinishReason.EndOfSequence, maxTokens);
        }
    }

    /// <summary>The reference's next step, or a mistake; past a mistake the steps go on but the answer is wrong.</summary>
    private (string Text, double Probability) NextStep(Problem problem, IReadOnlyList<string> reference, IReadOnlyList<string> written, Random random)
    {
        var index = Math.Min(written.Count, reference.Count - 1);
        var isLast = index == reference.Count - 1;
        var mistaken = random.NextDouble() < Options.MistakeRate;
        var probability = mistaken ? Options.MistakeRate : 1 - Options.MistakeRate;
        if (!FollowsReference(written, reference))
            return (isLast ? WrongAnswerLine(problem) : reference[index], probability);
        if (!mistaken) return (reference[index], probability);
        return (isLast ? WrongAnswerLine(problem) : Mistake(reference[index], random), probability);
    }

    private static IReadOnlyList<string> ReferenceSteps(Problem problem)
    {
        var steps = problem.ReferenceSteps?.Where(s => !string.IsNullOrWhiteSpace(s)).ToList() ?? [];
        if (steps.Count == 0 || AnswerExtractor.ExtractMarked(steps[^1], problem.Kind) is null) steps.Add(AnswerLine(problem, problem.Answer));
        return steps;
    }

    private static bool FollowsReference(IReadOnlyList<string> steps, IReadOnlyList<string> reference) =>
        steps.Count <= reference.Count && steps.Select(Normalize).SequenceEqual(reference.Take(steps.Count).Select(Normalize));

    private static string AnswerLine(Problem problem, string answer) =>
        problem.Kind == AnswerKind.Choice ? $"The answer is ({answer})." : $"The answer is {answer}.";

    private static string WrongAnswerLine(Problem problem) => AnswerLine(problem, problem.Kind switch
    {
        AnswerKind.YesNo => problem.Answer.Trim().Equals("yes", StringComparison.OrdinalIgnoreCase) ? "no" : "yes",
        AnswerKind.Choice => problem.Choices.Select(c => c.Label).FirstOrDefault(l => l != problem.Answer) ?? (problem.Answer == "A" ? "B" : "A"),
        AnswerKind.Number when decimal.TryParse(problem.Answer.Replace(",", ""), NumberStyles.Number, CultureInfo.InvariantCulture, out var n) =>
            (n + 1).ToString(CultureInfo.InvariantCulture),
        _ => problem.Answer + " + 1",
    });

    /// <summary>A wrong step that reads like the right one: its last digit changed, or its statement negated.</summary>
    private static string Mistake(string step, Random random)
    {
        var lastDigit = step.AsSpan().LastIndexOfAnyInRange('0', '9');
        if (lastDigit >= 0)
        {
            var changed = (char)('0' + (step[lastDigit] - '0' + 1 + random.Next(3)) % 10);
            return step[..lastDigit] + changed + step[(lastDigit + 1)..];
        }
        if (step.Contains(" is not ", StringComparison.Ordinal)) return step.Replace(" is not ", " is ", StringComparison.Ordinal);
        if (step.Contains(" is ", StringComparison.Ordinal)) return step.Replace(" is ", " is not ", StringComparison.Ordinal);
        return "Perhaps " + step;
    }

    private static Completion Tokens(string text, double probability, FinishReason finish, int maxTokens)
    {
        var words = Words(text);
        if (words.Length > maxTokens)
        {
            words = words[..maxTokens];
            text = string.Join(' ', words);
            finish = FinishReason.Length;
        }
        var perToken = words.Length == 0 ? 0 : Math.Log(probability) / words.Length;
        return new Completion(text, [.. Enumerable.Range(0, words.Length)], [.. Enumerable.Repeat(perToken, words.Length)], finish);
    }

    private static IReadOnlyList<string> Lines(string solution) =>
        solution.Length == 0 ? [] : solution.TrimEnd('\n').Split('\n');

    private static string[] Words(string text) => text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);

    private static string Normalize(string step) => Whitespace().Replace(step.Trim(), " ");

    /// <summary>A seed per sample, from the request's seed: never <see cref="HashCode"/>, which differs between processes.</summary>
    private static int SampleSeed(long seed, int sample) =>
        unchecked((int)(((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)sample * 0xBF58476D1CE4E5B9UL) >> 32));

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
