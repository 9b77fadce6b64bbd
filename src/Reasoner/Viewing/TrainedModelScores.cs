using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Reasoner.Core.Export;
using Reasoner.Core.Prompts;
using Reasoner.Core.Trees;
using Reasoner.Models.Backends;
using Reasoner.Models.Scoring;
using Reasoner.Training.Preference;
using static TorchSharp.torch;

namespace Reasoner.Cli.Viewing;

/// <summary>
/// What a trained model makes of a tree's steps, for the tree page: each step's β·(log π − log π_ref) under a trained
/// policy and the reference it started from (the implicit reward DPO-style trainers push apart), and a verifier's or
/// OREO value head's score. The raw scores: σ of a verifier score is its probability; a value is V(s) at the step's end.
/// </summary>
public sealed record ModelScoreSet(string Model, string? Method, string? Reference, double? Beta, IReadOnlyDictionary<int, double>? PolicyReward,
    IReadOnlyDictionary<int, double>? Scorer, string? ScorerKind);

/// <summary>
/// Computes <see cref="ModelScoreSet"/>s on request and caches them beside the run (<c>RUN/view-cache/</c>), so a page
/// opened again costs nothing. Models stay loaded for the viewer's lifetime; one computation runs at a time.
/// </summary>
public sealed class TrainedModelScores(string runDirectory, PromptLibrary prompts, Device? device = null) : IDisposable
{
    public const string CacheFolder = "view-cache";

    readonly ConcurrentDictionary<string, ILanguageModel> policies = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, IStepScoringModel> scorers = new(StringComparer.Ordinal);
    readonly SemaphoreSlim gate = new(1, 1);

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>What a model folder offers: a policy trained from a reference (a provenance file naming base_model), a scorer, or both (OREO).</summary>
    public static (string? Method, string? Reference, double? Beta, bool Scorer) Describe(string modelFolder)
    {
        if (!Directory.Exists(modelFolder)) throw new DirectoryNotFoundException($"model folder not found: {modelFolder}");
        bool scorer = ScorerEngine.IsScorerFolder(modelFolder) || File.Exists(Path.Combine(modelFolder, Models.CausalLanguageModel.ValueHeadFile));
        foreach (var file in Directory.EnumerateFiles(modelFolder, "*.json").Order(StringComparer.Ordinal))
        {
            JsonNode? node;
            try { node = JsonNode.Parse(File.ReadAllText(file)); }
            catch (JsonException) { continue; }
            if (node is not JsonObject o || o["method"] is not JsonValue m || o["base_model"] is not JsonValue b) continue;
            var method = m.ToString();
            double? beta = o["settings"]?["beta"] is JsonValue bv && bv.TryGetValue<double>(out var x) ? x : null;
            // A verifier starts from the policy but is not one: its base model is no reference for a log-ratio.
            return (method, method == "plv" ? null : b.ToString(), beta, scorer);
        }
        return (null, null, null, scorer);
    }

    public async Task<ModelScoreSet> ScoreAsync(int index, PreferenceTree tree, string modelFolder, CancellationToken cancel)
    {
        modelFolder = Path.GetFullPath(modelFolder);
        var cacheFile = CachePath(index, tree, modelFolder);
        if (File.Exists(cacheFile))
            return JsonSerializer.Deserialize<ModelScoreSet>(await File.ReadAllTextAsync(cacheFile, cancel), Json)!;
        var (method, reference, beta, isScorer) = Describe(modelFolder);
        if (reference is null && !isScorer)
            throw new ArgumentException($"{modelFolder} is neither a trained policy (no provenance file naming its base_model) nor a verifier or value head");
        await gate.WaitAsync(cancel);
        try
        {
            Dictionary<int, double>? reward = null, scores = null;
            if (reference is not null)
                reward = await PolicyRewardAsync(tree, Policy(modelFolder), Policy(LanguageModelFactory.ModelFolder(reference) ?? reference), beta ?? 1, cancel);
            if (isScorer)
                scores = await ScorerAsync(tree, scorers.GetOrAdd(modelFolder, f => StepScoringModels.Open(f, device)), cancel);
            var set = new ModelScoreSet(modelFolder, method, reference, reference is null ? null : beta ?? 1, reward, scores,
                isScorer ? (method == "oreo" ? "value" : "verifier") : null);
            AtomicFile.Write(cacheFile, stream => { JsonSerializer.Serialize(stream, set, Json); return 0; });
            return set;
        }
        finally { gate.Release(); }
    }

    ILanguageModel Policy(string folder) => policies.GetOrAdd(Path.GetFullPath(folder), f => LanguageModelFactory.Create(f, device));

    /// <summary>
    /// β·(log π(step | state) − log π_ref(step | state)) for every step, each scored after the state search continued
    /// (<see cref="PromptText.State"/>), with the step delimiter after it where the solution goes on.
    /// </summary>
    async Task<Dictionary<int, double>> PolicyRewardAsync(PreferenceTree tree, ILanguageModel policy, ILanguageModel reference, double beta, CancellationToken cancel)
    {
        var head = prompts.RenderSolve(tree.Problem, StepPairData.IsBare(tree));
        var reward = new Dictionary<int, double>();
        foreach (var parent in tree.Nodes.Where(n => n.ChildIds.Count > 0))
        {
            var state = PromptText.State(head, tree.Steps(parent));
            var children = tree.Children(parent).ToList();
            var texts = children.Select(c => c.IsTerminal ? c.Text : c.Text + PreferenceTree.StepDelimiter).ToList();
            var mine = await policy.ScoreAsync(state, texts, cancel);
            var theirs = await reference.ScoreAsync(state, texts, cancel);
            for (int i = 0; i < children.Count; i++) reward[children[i].Id] = beta * (mine[i].LogProb - theirs[i].LogProb);
        }
        return reward;
    }

    /// <summary>The scorer's raw score at the end of every step, reading each root-to-leaf path once.</summary>
    async Task<Dictionary<int, double>> ScorerAsync(PreferenceTree tree, IStepScoringModel scorer, CancellationToken cancel)
    {
        var head = prompts.RenderSolve(tree.Problem, scorer.ReadsBarePrompt);
        var leaves = tree.Leaves.Where(l => !l.IsRoot).ToList();
        var scores = new Dictionary<int, double>();
        if (leaves.Count == 0) return scores;
        var paths = leaves.Select(tree.PathTo).ToList();
        var raw = await scorer.ScoreStepsAsync(head, [.. paths.Select(p => (IReadOnlyList<string>)[.. p.Skip(1).Select(n => n.Text)])], PreferenceTree.StepDelimiter, cancel);
        for (int i = 0; i < paths.Count; i++)
            for (int s = 1; s < paths[i].Count; s++) scores[paths[i][s].Id] = raw[i][s - 1];
        return scores;
    }

    string CachePath(int index, PreferenceTree tree, string modelFolder)
    {
        var weights = Directory.EnumerateFiles(modelFolder, "*.safetensors").Select(f => $"{f}:{File.GetLastWriteTimeUtc(f).Ticks}");
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("|", [modelFolder, .. weights.Order(StringComparer.Ordinal)]))))[..16];
        var problem = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{tree.Problem.Id}|{tree.Nodes.Count}|{tree.Timings.StartedUtc.Ticks}")))[..16];
        return Path.Combine(runDirectory, CacheFolder, key, $"{index}-{problem}.json");
    }

    public void Dispose()
    {
        foreach (var m in policies.Values) m.Dispose();
        foreach (var s in scorers.Values) s.Dispose();
        gate.Dispose();
    }
}
