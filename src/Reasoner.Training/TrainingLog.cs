using System.Text.Json.Nodes;

namespace Reasoner.Training;

/// <summary>
/// The run's history as JSON lines (<c>train_log.jsonl</c> in the run folder): one object per logged step
/// or evaluation, with "step", wall-clock "time" and named metrics. Appends, so a resumed run continues it.
/// </summary>
public sealed class TrainingLog : IDisposable
{
    public const string FileName = "train_log.jsonl";

    private readonly StreamWriter writer;

    public TrainingLog(string runDirectory)
    {
        Directory.CreateDirectory(runDirectory);
        Path = System.IO.Path.Combine(runDirectory, FileName);
        writer = new StreamWriter(Path, append: true) { AutoFlush = true };
    }

    public string Path { get; }

    public void Write(int step, IEnumerable<KeyValuePair<string, double>> metrics)
    {
        var line = new JsonObject { ["step"] = step, ["time"] = DateTimeOffset.UtcNow.ToString("O") };
        // NaN and infinities are not JSON; a diverged loss is written as null rather than breaking the file.
        foreach (var (name, value) in metrics) line[name] = double.IsFinite(value) ? Math.Round(value, 6) : null;
        writer.WriteLine(line.ToJsonString());
    }

    public void Write(StepResult s) => Write(s.Step,
    [
        new("loss", s.Loss), new("lr", s.LearningRate), new("grad_norm", s.GradientNorm),
        new("tokens", s.Tokens), new("tokens_per_s", s.TokensPerSecond),
    ]);

    /// <summary>The "step" of one log line; null for a line that has none.</summary>
    public static int? StepOf(string line) =>
        line.Length > 0 && JsonNode.Parse(line)?["step"] is { } step ? step.GetValue<int>() : null;

    /// <summary>Every line of a log, for tools and tests.</summary>
    public static IReadOnlyList<JsonObject> Read(string path) =>
        File.ReadLines(path).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    public void Dispose() => writer.Dispose();
}
