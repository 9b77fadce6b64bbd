using System.Text.Json;
using System.Text.Json.Serialization;

namespace Reasoner.Training.Evaluation;

/// <summary>What was evaluated and how: enough to tell whether two reports can be compared problem by problem.</summary>
public sealed record EvalRun(string Task, int? Difficulty, string? Data, string Model, string Prompt, int K, int Samples, double Temperature, double TopP, int MaxTokens, long Seed)
{
    /// <summary>Whether samples were drawn beside greedy (k ≥ 1), so that pass@k, maj@k and sample accuracy mean something.</summary>
    public bool Sampled => K > 0;

    /// <summary>The verifier that reranked the samples, if one did.</summary>
    public string? Verifier { get; init; }

    /// <summary>How its step scores were aggregated (last, min, product).</summary>
    public string? Aggregate { get; init; }

    /// <summary>The beam width of step beam search, if it ran.</summary>
    public int? Beam { get; init; }

    /// <summary>The value model that guided the beam, if one did.</summary>
    public string? Value { get; init; }

    /// <summary>Problems evaluated at once (their requests shared the engine's forward passes); null in reports from before it was recorded (one at a time).</summary>
    public int? Concurrency { get; init; }
}

/// <summary>
/// A saved evaluation: the run, the summary with its intervals, and every problem's outcome, so that two saved reports
/// can be compared on the same problems without running the models again (<see cref="EvalComparison"/>).
/// </summary>
public sealed record EvalReport(EvalRun Run, EvalSummary Summary, IReadOnlyList<ProblemOutcome> Problems)
{
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    public DateTime CreatedUtc { get; init; } = DateTime.UtcNow;

    public static EvalReport Create(EvalRun run, IReadOnlyList<ProblemOutcome> problems) =>
        new(run, EvalSummary.From(problems, run.K, run.Samples), problems);

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json) + "\n";

    /// <summary>Reads a saved report; an <see cref="InvalidDataException"/> naming the file and what is wrong otherwise.</summary>
    public static EvalReport Load(string path)
    {
        EvalReport? report;
        try { report = JsonSerializer.Deserialize<EvalReport>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not an eval report: {e.Message}"); }
        if (report is null || report.Run is null || report.Problems is null)
            throw new InvalidDataException($"{path}: not an eval report (no 'run' or 'problems')");
        if (report.Version != CurrentVersion)
            throw new InvalidDataException($"{path}: eval report version {report.Version}, this build reads version {CurrentVersion}");
        if (report.Problems.FirstOrDefault(p => p.ProblemId is null || p.SampleAnswers is null) is { } bad)
            throw new InvalidDataException($"{path}: problem {report.Problems.ToList().IndexOf(bad)} lacks 'problemId' or 'sampleAnswers'");
        return report;
    }
}
