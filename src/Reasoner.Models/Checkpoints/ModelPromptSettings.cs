using System.Text.Json;
using System.Text.Json.Serialization;

namespace Reasoner.Models.Checkpoints;

/// <summary>
/// <c>reasoner.json</c> beside a checkpoint: how the model expects to be prompted and sampled. Models trained from
/// scratch on the built-in tasks know only the bare "Question: … Answer:" format, end a solution with EOS and repeat
/// their favourite steps; a checkpoint without this file is a general model, prompted with its task family's
/// few-shot prompt and sampled as the search algorithm's paper does.
/// </summary>
public sealed record ModelPromptSettings
{
    public const string FileName = "reasoner.json";

    /// <summary>Prompt name in the prompt library, e.g. "solve-bare".</summary>
    public required string Prompt { get; init; }

    /// <summary>Whether the model reads the bare solve prompt (models trained on the built-in tasks' own solutions).</summary>
    [JsonIgnore]
    public bool IsBare => Prompt == Core.Prompts.PromptLibrary.SolveBare;

    /// <summary>Whether the model folder's reasoner.json names the bare solve prompt; false without one.</summary>
    public static bool ReadsBarePrompt(string checkpointDirectory) => Load(checkpointDirectory)?.IsBare == true;

    /// <summary>The self-evaluation prompt the model learned (e.g. "self-eval-bare"); null: the few-shot "self-eval".</summary>
    public string? SelfEvalPrompt { get; init; }

    /// <summary>Strings that end a solution besides EOS (none for a model that emits EOS itself).</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>
    /// Search's default samples per wanted step (<c>ProposalSettings.Oversampling</c>): a small, confident model draws
    /// the same step again and again, so k samples give too few distinct children. Null: the algorithm's default.
    /// </summary>
    public int? Oversampling { get; init; }

    /// <summary>Task families the model was trained on, for people reading the file.</summary>
    public IReadOnlyList<string> TrainedOn { get; init; } = [];

    public int? Difficulty { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The settings saved with a checkpoint, or null when it has none.</summary>
    public static ModelPromptSettings? Load(string checkpointDirectory)
    {
        var path = Path.Combine(checkpointDirectory, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<ModelPromptSettings>(File.ReadAllText(path), Json)
                ?? throw new InvalidDataException($"{path} is empty");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    public void Save(string checkpointDirectory) =>
        File.WriteAllText(Path.Combine(checkpointDirectory, FileName), JsonSerializer.Serialize(this, Json) + "\n");
}
