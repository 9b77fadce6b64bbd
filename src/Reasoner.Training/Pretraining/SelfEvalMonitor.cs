using Reasoner.Core.Problems;
using Reasoner.Core.Statistics;
using Reasoner.Models;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Batching;
using static TorchSharp.torch;

namespace Reasoner.Training.Pretraining;

/// <summary>
/// How well the model's self-evaluation separates sound from unsound steps on held-out problems, measured during
/// training: for each example the score search uses, P(A) / (P(A) + P(B)) after the self-evaluation prompt, and the
/// AUC of those scores against the gold labels.
/// </summary>
public sealed class SelfEvalMonitor(IReadOnlyDictionary<string, IReadOnlyList<(Problem Problem, SelfEvalExample Example)>> examplesByTask, SelfEvalCorpus corpus,
    int batchRows = 32)
{
    public IReadOnlyDictionary<string, double?> Measure(CausalLanguageModel model, ITextTokenizer tokenizer)
    {
        var results = new Dictionary<string, double?>();
        using var noGrad = no_grad();
        var device = model.parameters().First().device;
        foreach (var (task, examples) in examplesByTask)
        {
            var sound = new List<double>();
            var unsound = new List<double>();
            foreach (var chunk in examples.Chunk(batchRows))
            {
                // Each example twice, answered A and answered B; the difference of the two answers' log-probabilities is the score.
                var sequences = chunk.SelectMany(x => Answered(x.Problem, x.Example, tokenizer)).ToList();
                using var batch = TokenBatch.Collate(sequences, tokenizer.EosId, device);
                using var logProbs = SequenceLogProbs.Compute(model, batch);
                using var sums = logProbs.SequenceSums().cpu();
                var values = sums.data<float>().ToArray();
                for (int i = 0; i < chunk.Length; i++)
                    (chunk[i].Example.Sound ? sound : unsound).Add(values[2 * i] - values[2 * i + 1]);
            }
            results[task] = Auc.Compute(sound, unsound);
        }
        return results;
    }

    /// <summary>The example's text answered A and answered B; only the tokens where the two differ are targets.</summary>
    private IEnumerable<TrainingSequence> Answered(Problem problem, SelfEvalExample example, ITextTokenizer tokenizer)
    {
        var a = corpus.Encode(problem, example with { Sound = true }, tokenizer).Tokens;
        var b = corpus.Encode(problem, example with { Sound = false }, tokenizer).Tokens;
        int common = 0;
        while (common < Math.Min(a.Length, b.Length) - 1 && a[common] == b[common]) common++;
        return [new TrainingSequence(a, common), new TrainingSequence(b, common)];
    }
}
