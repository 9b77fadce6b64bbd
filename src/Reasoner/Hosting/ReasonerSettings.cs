using Reasoner.Generation;

namespace Reasoner.Cli.Hosting;

/// <summary>
/// Settings bound from appsettings.json, then REASONER_-prefixed environment variables
/// (nested keys with "__", e.g. REASONER_Store__FlushEveryRecords=10), then command-line options,
/// each overriding the one before. Command-line options take their defaults from here, so
/// <c>--help</c> shows the value in force.
/// </summary>
public sealed class ReasonerSettings
{
    /// <summary>Folder that holds one sub-folder per run.</summary>
    public string RunsDir { get; set; } = "runs";

    /// <summary>Prompt templates folder; empty means the repository's <c>prompts/</c>, found by walking up.</summary>
    public string PromptsDir { get; set; } = "";

    /// <summary>Folder of real data sets (GSM8K, MATH-500, ...); empty means <c>../shared/data</c> beside the repository.</summary>
    public string DataDir { get; set; } = "";

    /// <summary>Tensor device: cpu, cuda or cuda:N.</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>Seed for everything random (problem generation, sampling, search).</summary>
    public int Seed { get; set; } = 1234;

    public StoreSettings Store { get; set; } = new();

    /// <summary>What <c>generate</c> and <c>serve</c> search and how the pipeline is sized.</summary>
    public GenerateSettings Generate { get; set; } = new();

    /// <summary>The service's sources, run folder and endpoint.</summary>
    public ServeSettings Serve { get; set; } = new();
}
