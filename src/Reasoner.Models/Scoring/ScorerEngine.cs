using Reasoner.Models.Checkpoints;
using Reasoner.Models.Tokenization;
using static TorchSharp.torch;

namespace Reasoner.Models.Scoring;

/// <summary>
/// Step scores from a scorer model (<see cref="ModelConfig.IsScorer"/>: a Tree-PLV verifier, an OREO value model). Every
/// candidate continues one shared prompt: the prompt is run once into a key/value cache, which is then forked into one
/// row per candidate, and all candidates run together over it in one batched forward. Siblings in a search share their
/// state, and best-of-N candidates share the question, so the shared part is paid for once. A step's score is the head's
/// output at the step's last token, the step encoded with its delimiter, as training reads it.
/// Calls run one at a time (the model is not shared between threads); concurrent callers queue.
/// </summary>
public sealed class ScorerEngine : IStepScoringModel
{
    private readonly CausalLanguageModel model;
    private readonly bool ownsModel;
    private readonly Device device;
    private readonly SemaphoreSlim gate = new(1, 1);

    public ScorerEngine(CausalLanguageModel scorer, ITextTokenizer tokenizer, string id, bool ownsModel = false)
    {
        if (!scorer.HasScoreHead) throw new ArgumentException($"{id} is neither a scorer (…ForTokenClassification with one label) nor a policy with a value head", nameof(scorer));
        model = scorer;
        Tokenizer = tokenizer;
        Id = id;
        this.ownsModel = ownsModel;
        device = scorer.parameters().First().device;
    }

    /// <summary>
    /// Loads a scorer folder (Hugging Face layout, …ForTokenClassification: a <c>train plv</c> verifier), or a policy folder
    /// with a value head beside it (<c>train oreo</c>); the engine owns the model.
    /// </summary>
    public static ScorerEngine Load(string directory, Device? device = null)
    {
        bool isScorer = IsScorerFolder(directory);
        bool valueHead = !isScorer && File.Exists(Path.Combine(directory, CausalLanguageModel.ValueHeadFile));
        if (!isScorer && !valueHead)
            throw new ArgumentException($"{directory} holds a policy without a value head, not a scorer: train one with train plv or train oreo");
        var model = CheckpointLoader.LoadModel(directory, device, withValueHead: valueHead);
        return new ScorerEngine(model, CheckpointLoader.LoadTokenizer(directory), Path.TrimEndingDirectorySeparator(directory), ownsModel: true)
        {
            ReadsBarePrompt = ModelPromptSettings.ReadsBarePrompt(directory),
        };
    }

    /// <summary>Whether a folder holds a standalone scorer (…ForTokenClassification, or a LoRA adapter for one), not a policy.</summary>
    public static bool IsScorerFolder(string directory) =>
        // An adapter folder has no config.json of its own: it is a scorer when PEFT's task is token classification.
        LoraAdapters.IsAdapterFolder(directory)
            ? LoraAdapters.IsScorerAdapter(directory)
            : File.Exists(Path.Combine(directory, CheckpointFiles.Config)) && ModelConfig.Load(Path.Combine(directory, CheckpointFiles.Config)).IsScorer;

    public string Id { get; }

    /// <summary>From the folder's reasoner.json, which a verifier copies from the policy it started from.</summary>
    public bool ReadsBarePrompt { get; init; }

    /// <summary>σ of a raw score: the probability the verifier's Bradley–Terry training gives it, in [0, 1] like the other step values.</summary>
    public static double Sigmoid(double score) => 1 / (1 + Math.Exp(-score));

    public ITextTokenizer Tokenizer { get; }

    /// <summary>The token pieces of steps as the scorer reads them: each step with the delimiter after it, encoded on its own.</summary>
    public static IReadOnlyList<int[]> StepPieces(ITextTokenizer tokenizer, IEnumerable<string> steps, string delimiter) =>
        steps.Select(s => tokenizer.Encode(s + delimiter)).ToArray();

    public async Task<IReadOnlyList<double[]>> ScoreStepsAsync(string prompt, IReadOnlyList<IReadOnlyList<string>> candidates, string delimiter,
        CancellationToken cancel = default)
    {
        await gate.WaitAsync(cancel);
        // On a thread of its own with one intra-op thread: a pool thread would keep a libtorch team of its own beside
        // the generation engine's, and more team threads than cores make every team sleep between calls (IntraOpThreads).
        try { return await Task.Run(() => IntraOpThreads.OnThreadOfItsOwn(() => Score(prompt, candidates, delimiter)), cancel); }
        finally { gate.Release(); }
    }

    private IReadOnlyList<double[]> Score(string prompt, IReadOnlyList<IReadOnlyList<string>> candidates, string delimiter)
    {
        var pieces = candidates.Select(c => StepPieces(Tokenizer, c, delimiter)).ToArray();
        var results = pieces.Select(p => new double[p.Count]).ToArray();
        var rows = Enumerable.Range(0, candidates.Count).Where(i => pieces[i].Sum(p => p.Length) > 0).ToArray();
        if (rows.Length == 0) return results;
        var promptIds = Tokenizer.Encode(prompt);
        if (promptIds.Length == 0) throw new ArgumentException("the prompt must have at least one token", nameof(prompt));

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var promptCache = new KvCache(model.Config.NumHiddenLayers);
        model.HiddenStates(tensor(promptIds.Select(i => (long)i).ToArray(), [1, promptIds.Length], device: device), promptCache);
        using var forked = promptCache.Select(new long[rows.Length]);

        int width = rows.Max(i => pieces[i].Sum(p => p.Length));
        var ids = new long[rows.Length * width];
        var isToken = new bool[rows.Length * width];
        var ends = new List<(int Row, int Candidate, int Step, int At)>();
        for (int r = 0; r < rows.Length; r++)
        {
            int at = 0;
            for (int s = 0; s < pieces[rows[r]].Count; s++)
            {
                foreach (var id in pieces[rows[r]][s])
                {
                    ids[r * width + at] = id;
                    isToken[r * width + at++] = true;
                }
                // An empty piece (an empty step that encodes to nothing) is read where the previous one ended.
                ends.Add((r, rows[r], s, Math.Max(0, at - 1)));
            }
        }
        var hidden = model.HiddenStates(tensor(ids, [rows.Length, width], device: device), forked,
            attentionMask: tensor(isToken, [rows.Length, width], device: device));
        var scores = model.Scores(hidden).to(ScalarType.Float64).cpu().data<double>().ToArray();
        foreach (var (row, candidate, step, at) in ends) results[candidate][step] = scores[row * width + at];
        return results;
    }

    public void Dispose()
    {
        gate.Wait();
        try { if (ownsModel) model.Dispose(); }
        finally { gate.Release(); }
    }
}
