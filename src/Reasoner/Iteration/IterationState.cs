using System.Text.Json;
using System.Text.Json.Serialization;

namespace Reasoner.Cli.Iteration;

/// <summary>What makes an iterate run what it is: a resumed run must be given the same, or it would mix two experiments.</summary>
public sealed record IterationSettings
{
    public required string Trainer { get; init; }
    public required string Task { get; init; }
    public int Difficulty { get; init; }
    public string? Data { get; init; }

    /// <summary>The policy round 1 searches with (a folder, absolute).</summary>
    public required string Model { get; init; }

    public int ProblemsPerRound { get; init; }
    public required string Algorithm { get; init; }
    public int Seed { get; init; }
    public int EvalProblems { get; init; }
    public int EvalK { get; init; }

    /// <summary>Train each round on every round's trees so far, not only its own.</summary>
    public bool AllRounds { get; init; }

    public IReadOnlyList<string> GenerateArgs { get; init; } = [];
    public IReadOnlyList<string> TrainArgs { get; init; } = [];
    public IReadOnlyList<string> EvalArgs { get; init; } = [];

    /// <summary>The first setting that differs in <paramref name="other"/> (the new ones), for the error that refuses to resume.</summary>
    public string? FirstDifference(IterationSettings other)
    {
        var mine = JsonSerializer.SerializeToElement(this, IterationState.Json);
        var theirs = JsonSerializer.SerializeToElement(other, IterationState.Json);
        foreach (var property in mine.EnumerateObject())
        {
            var value = theirs.TryGetProperty(property.Name, out var v) ? v.GetRawText() : "null";
            if (property.Value.GetRawText() != value) return $"{property.Name}: {property.Value.GetRawText()} then, {value} now";
        }
        return null;
    }
}

/// <summary>Where a round is: its stages run in this order, and a stopped round resumes at the stage it had reached.</summary>
public enum RoundStage { Search, Train, Evaluate, Done }

/// <summary>
/// One round's folders and how far it got. Round 0 is the starting policy, evaluated only; round r ≥ 1 searches a fresh
/// slice of problems with its policy (and, for the verifier trainer, its verifier), trains on the trees, and evaluates.
/// </summary>
public sealed record RoundState
{
    public int Round { get; init; }
    public RoundStage Stage { get; set; }

    /// <summary>The policy that searches and, for the policy trainers, the model training starts from.</summary>
    public required string Policy { get; init; }

    /// <summary>The verifier that scores the round's search steps (the verifier trainer's previous round), if any.</summary>
    public string? Verifier { get; init; }

    public string? Trees { get; init; }

    /// <summary>What training wrote: the next policy, or (verifier trainer) the next verifier.</summary>
    public string? Model { get; init; }

    public required string Eval { get; init; }
    public string? DataQuality { get; init; }

    public double? Greedy { get; set; }
    public double? GreedyLow { get; set; }
    public double? GreedyHigh { get; set; }

    /// <summary>Verifier trainer: accuracy of the verifier's pick among the evaluation's samples.</summary>
    public double? VerifierPick { get; set; }
}

/// <summary>
/// The run folder's <c>iterate.json</c>: the settings and every round's state, rewritten (to a temporary file, then
/// renamed over the old one) after every stage, so that a stop of any kind leaves either the state before or after it.
/// </summary>
public sealed class IterationState
{
    public const string FileName = "iterate.json";

    internal static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public int Version { get; init; } = 1;
    public required IterationSettings Settings { get; init; }
    public List<RoundState> Rounds { get; init; } = [];

    public static IterationState? Load(string directory)
    {
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<IterationState>(File.ReadAllText(path), Json) ?? throw new InvalidDataException($"{path}: empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not an iterate state file: {e.Message}");
        }
    }

    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, FileName);
        var staged = path + ".tmp";
        using (var stream = new FileStream(staged, FileMode.Create, FileAccess.Write))
        {
            JsonSerializer.Serialize(stream, this, Json);
            stream.Flush(flushToDisk: true);
        }
        File.Move(staged, path, overwrite: true);
    }
}
