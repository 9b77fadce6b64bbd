using Reasoner.Core.Problems;
using Reasoner.Models;
using Reasoner.Models.Generation;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Evaluation;

namespace Reasoner.Training.Pretraining;

/// <summary>
/// Greedy accuracy on fixed held-out problems per task, measured during training to see learning happen. It decodes
/// through the engine and <see cref="Evaluator.GreedyAsync"/>, so its figures are the ones <c>eval</c> would print
/// for the same problems.
/// </summary>
public sealed class AccuracyMonitor(IReadOnlyDictionary<string, IReadOnlyList<Problem>> problemsByTask, SolutionCorpus corpus, int maxTokens)
{
    /// <summary>Fraction of each task's problems whose greedy solution the answer checker accepts, and one sample solution per task.</summary>
    public IReadOnlyDictionary<string, (double Accuracy, string Example)> Measure(CausalLanguageModel model, ITextTokenizer tokenizer)
    {
        // The engine over the live weights, with no prefix cache: the weights change between measurements.
        using var engine = new TorchEngine(model, tokenizer, "training", new TorchEngineOptions { PrefixCacheTokens = 0 });
        var evaluator = new Evaluator(engine, corpus.Prompt, new EvalSettings { K = 1, Samples = 1, MaxTokens = maxTokens });
        var results = new Dictionary<string, (double, string)>();
        foreach (var (task, problems) in problemsByTask)
        {
            // All of a task's problems at once: the engine decodes them as rows of one forward pass.
            var outcomes = Task.WhenAll(problems.Select((p, i) => evaluator.GreedyAsync(p, i))).GetAwaiter().GetResult();
            results[task] = ((double)outcomes.Count(o => o.Check.IsCorrect) / Math.Max(1, problems.Count), outcomes.Length > 0 ? outcomes[0].Text : "");
        }
        return results;
    }
}
