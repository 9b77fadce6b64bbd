using Reasoner.Models.Backends;

namespace Reasoner.Tests.Search;

/// <summary>One possible next step of a scripted solution, with the probability the scripted policy gives it.</summary>
internal sealed record ScriptedStep(string Text, double Probability)
{
    /// <summary>Whether the model ends the sequence after this step; by default, when the step states the answer.</summary>
    public bool EndsSequence { get; init; } = Text.Contains("answer is", StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// A policy written out by hand: for each solution prefix (the steps so far) a distribution over next steps, and
/// for each step the probability that the policy judges it correct.
/// </summary>
internal sealed class StepScript
{
    private readonly Dictionary<string, IReadOnlyList<ScriptedStep>> _next = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _judgements = new(StringComparer.Ordinal);
    private Func<IReadOnlyList<string>, IReadOnlyList<ScriptedStep>>? _generator;

    public StepScript After(string[] steps, params (string Text, double Probability)[] next) =>
        After(steps, [.. next.Select(n => new ScriptedStep(n.Text, n.Probability))]);

    public StepScript After(string[] steps, params ScriptedStep[] next)
    {
        _next[Key(steps)] = next;
        return this;
    }

    /// <summary>Prefixes not listed get their next steps from <paramref name="generator"/> (for unbounded trees).</summary>
    public StepScript Otherwise(Func<IReadOnlyList<string>, IReadOnlyList<ScriptedStep>> generator)
    {
        _generator = generator;
        return this;
    }

    public StepScript Judge(string step, double probabilityCorrect)
    {
        _judgements[step] = probabilityCorrect;
        return this;
    }

    public IReadOnlyList<ScriptedStep> Next(IReadOnlyList<string> steps) =>
        _next.TryGetValue(Key(steps), out var next) ? next
        : _generator?.Invoke(steps) ?? throw new InvalidOperationException($"the script has no step after [{string.Join(" | ", steps)}]");

    public double Judgement(string step) => _judgements.GetValueOrDefault(step, 0.5);

    private static string Key(IReadOnlyList<string> steps) => string.Join("\n", steps);
}

/// <summary>
/// An <see cref="ILanguageModel"/> that follows a <see cref="StepScript"/>. Prompts are read as the solve prompt
/// ("...Answer:\n") followed by steps, one per line. A step request samples next steps; a request without stop
/// strings rolls the script out to a step that ends the sequence. Tokens are words; sampling uses only the request's
/// seed; scoring a self-evaluation continuation gives its last letter the script's judgement of the step.
/// </summary>
internal sealed class ScriptedLanguageModel(StepScript script) : ILanguageModel
{
    /// <summary>Log-probability of every scored token other than the judged letter.</summary>
    public const double ContextTokenLogProb = -0.05;

    private readonly object _gate = new();
    private readonly List<CompletionRequest> _requests = [];
    private readonly List<(string Prompt, IReadOnlyList<string> Continuations)> _scoreCalls = [];

    public string ModelId => "scripted";

    /// <summary>Makes the next completion request throw, as a backend that went away.</summary>
    public Exception? FailWith { get; set; }

    public IReadOnlyList<CompletionRequest> StepRequests { get { lock (_gate) return [.. _requests.Where(r => r.Stop.Count > 0)]; } }

    public IReadOnlyList<CompletionRequest> RolloutRequests { get { lock (_gate) return [.. _requests.Where(r => r.Stop.Count == 0)]; } }

    public IReadOnlyList<(string Prompt, IReadOnlyList<string> Continuations)> ScoreCalls { get { lock (_gate) return [.. _scoreCalls]; } }

    public Task<IReadOnlyList<Completion>> CompleteAsync(CompletionRequest request, CancellationToken cancel = default)
    {
        cancel.ThrowIfCancellationRequested();
        if (FailWith is { } failure) throw failure;
        lock (_gate) _requests.Add(request);
        var seed = request.Seed ?? throw new ArgumentException("the scripted model needs a seed");
        var random = new Random((int)(seed ^ (seed >> 32)));
        var steps = StepsIn(request.Prompt);
        IReadOnlyList<Completion> completions = [.. Enumerable.Range(0, request.N).Select(_ => request.Stop.Count > 0
            ? Step(steps, random, request.MaxTokens)
            : Rollout(steps, random, request.MaxTokens))];
        return Task.FromResult(completions);
    }

    public Task<IReadOnlyList<ScoredContinuation>> ScoreAsync(string prompt, IReadOnlyList<string> continuations, CancellationToken cancel = default)
    {
        lock (_gate) _scoreCalls.Add((prompt, continuations));
        IReadOnlyList<ScoredContinuation> scored = [.. continuations.Select(continuation =>
        {
            var newline = continuation.IndexOf('\n');
            var step = newline < 0 ? continuation : continuation[..newline];
            var correct = script.Judgement(step);
            var letter = continuation[^1] == 'A' ? Math.Log(correct) : Math.Log(1 - correct);
            var context = Words(continuation[..^1]).Length;
            return new ScoredContinuation(continuation, [.. Enumerable.Range(0, context + 1)],
                [.. Enumerable.Repeat(ContextTokenLogProb, context), letter]);
        })];
        return Task.FromResult(scored);
    }

    public void Dispose() { }

    /// <summary>The steps written after the last "Answer:" line of a prompt.</summary>
    public static IReadOnlyList<string> StepsIn(string prompt)
    {
        const string marker = "Answer:\n";
        var at = prompt.LastIndexOf(marker, StringComparison.Ordinal);
        if (at < 0) throw new ArgumentException($"not a solve prompt: {prompt}");
        var solution = prompt[(at + marker.Length)..];
        if (solution.Length == 0) return [];
        if (!solution.EndsWith('\n')) throw new ArgumentException("a state ends with the step delimiter");
        return solution[..^1].Split('\n');
    }

    private ScriptedStep Sample(IReadOnlyList<string> steps, Random random)
    {
        var next = script.Next(steps);
        var u = random.NextDouble() * next.Sum(s => s.Probability);
        foreach (var step in next)
        {
            u -= step.Probability;
            if (u < 0) return step;
        }
        return next[^1];
    }

    private Completion Step(IReadOnlyList<string> steps, Random random, int maxTokens)
    {
        var step = Sample(steps, random);
        var words = Words(step.Text);
        if (words.Length > maxTokens)
            return Tokens(string.Join(' ', words[..maxTokens]), maxTokens, Math.Log(step.Probability), FinishReason.Length);
        return Tokens(step.Text, words.Length, Math.Log(step.Probability), step.EndsSequence ? FinishReason.EndOfSequence : FinishReason.Stop);
    }

    private Completion Rollout(IReadOnlyList<string> steps, Random random, int maxTokens)
    {
        var written = new List<string>();
        var logProb = 0.0;
        while (true)
        {
            var step = Sample([.. steps, .. written], random);
            written.Add(step.Text);
            logProb += Math.Log(step.Probability);
            var words = Words(string.Join('\n', written));
            if (words.Length > maxTokens)
                return Tokens(string.Join(' ', words[..maxTokens]), maxTokens, logProb, FinishReason.Length);
            if (step.EndsSequence) return Tokens(string.Join('\n', written), words.Length, logProb, FinishReason.EndOfSequence);
        }
    }

    private static Completion Tokens(string text, int count, double logProb, FinishReason finish) =>
        new(text, [.. Enumerable.Range(0, count)], [.. Enumerable.Repeat(count == 0 ? 0 : logProb / count, count)], finish);

    private static string[] Words(string text) => text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
}
