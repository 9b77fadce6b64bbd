using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Batching;
using static TorchSharp.torch;

namespace Reasoner.Training.Decoding;

/// <summary>
/// An in-process <see cref="ILanguageModel"/> over <see cref="Sampler"/> and <see cref="SequenceLogProbs"/>,
/// so evaluation runs on a checkpoint before the generation engine (prefix caching across requests, dynamic
/// batching) exists. Requests run one at a time; the <c>n</c> samples of a request share the prompt's prefill.
/// </summary>
public sealed class CheckpointLanguageModel : ILanguageModel
{
    private readonly CausalLanguageModel model;
    private readonly ITextTokenizer tokenizer;
    private readonly int maxRows;
    private readonly Lock gate = new();

    /// <param name="maxRows">Most rows decoded together; a request for more samples runs in several rounds.</param>
    public CheckpointLanguageModel(CausalLanguageModel model, ITextTokenizer tokenizer, string modelId, int maxRows = 64)
    {
        this.model = model;
        this.tokenizer = tokenizer;
        this.maxRows = maxRows;
        ModelId = modelId;
        model.eval();
    }

    public static CheckpointLanguageModel Load(string directory, Device? device = null)
    {
        var loaded = CheckpointLoader.Load(directory, device);
        return new CheckpointLanguageModel(loaded.Model, loaded.Tokenizer, Path.GetFullPath(directory));
    }

    public string ModelId { get; }

    public Task<IReadOnlyList<Completion>> CompleteAsync(CompletionRequest request, CancellationToken cancel = default)
    {
        var completions = new List<Completion>(request.N);
        lock (gate)
        {
            using var generator = request.Temperature > 0 ? new Generator((ulong)(request.Seed ?? Random.Shared.NextInt64())) : null;
            var cut = Sampler.StopStrings(request.Stop);
            while (completions.Count < request.N)
            {
                cancel.ThrowIfCancellationRequested();
                int round = Math.Min(maxRows, request.N - completions.Count);
                foreach (var s in Sampler.Generate(model, tokenizer, [request.Prompt], round, request.Temperature, request.TopP, request.MaxTokens, cut, generator))
                    completions.Add(new Completion(s.Text, s.TokenIds, s.TokenLogProbs, s.Finish));
            }
        }
        return Task.FromResult<IReadOnlyList<Completion>>(completions);
    }

    public Task<IReadOnlyList<ScoredContinuation>> ScoreAsync(string prompt, IReadOnlyList<string> continuations, CancellationToken cancel = default)
    {
        if (continuations.Count == 0) return Task.FromResult<IReadOnlyList<ScoredContinuation>>([]);
        // Prompt and continuation are encoded apart, so the continuation's tokens are exactly what generation would emit after this prompt.
        var promptIds = tokenizer.Encode(prompt);
        if (promptIds.Length == 0) throw new ArgumentException("scoring needs a non-empty prompt", nameof(prompt));
        var continuationIds = continuations.Select(tokenizer.Encode).ToArray();
        var scored = new List<ScoredContinuation>(continuations.Count);
        lock (gate)
        {
            using var noGrad = no_grad();
            // An empty continuation scores as an empty sequence; padding it with one token keeps the batch rectangular.
            var sequences = continuationIds.Select(c => new TrainingSequence([.. promptIds, .. c.Length > 0 ? c : [tokenizer.EosId]], promptIds.Length)).ToArray();
            using var batch = TokenBatch.Collate(sequences, tokenizer.EosId, model.parameters().First().device);
            using var logProbs = SequenceLogProbs.Compute(model, batch);
            var values = logProbs.Values.cpu().data<float>().ToArray();
            for (int i = 0; i < continuations.Count; i++)
            {
                var tokenLogProbs = Enumerable.Range(promptIds.Length, continuationIds[i].Length).Select(t => (double)values[i * batch.Width + t]).ToArray();
                scored.Add(new ScoredContinuation(continuations[i], continuationIds[i], tokenLogProbs));
            }
        }
        return Task.FromResult<IReadOnlyList<ScoredContinuation>>(scored);
    }

    public void Dispose() => model.Dispose();
}
