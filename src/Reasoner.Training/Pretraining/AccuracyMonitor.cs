using Reasoner.Core.Answers;
using Reasoner.Core.Problems;
using Reasoner.Models;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Decoding;

namespace Reasoner.Training.Pretraining;

/// <summary>Greedy accuracy on fixed held-out problems per task, measured during training to see learning happen.</summary>
public sealed class AccuracyMonitor(IReadOnlyDictionary<string, IReadOnlyList<Problem>> problemsByTask, SolutionCorpus corpus, int maxTokens, int batchRows = 100)
{
    /// <summary>Cuts a solution after its answer line, in case the model goes on instead of emitting EOS.</summary>
    public static int? AfterAnswerLine(string text)
    {
        int answer = text.IndexOf("The answer is", StringComparison.Ordinal);
        int end = answer < 0 ? -1 : text.IndexOf('\n', answer);
        return end < 0 ? null : end;
    }

    /// <summary>Fraction of each task's problems whose greedy solution the answer checker accepts, and one sample solution per task.</summary>
    public IReadOnlyDictionary<string, (double Accuracy, string Example)> Measure(CausalLanguageModel model, ITextTokenizer tokenizer)
    {
        var results = new Dictionary<string, (double, string)>();
        foreach (var (task, problems) in problemsByTask)
        {
            int correct = 0;
            string example = "";
            foreach (var chunk in problems.Chunk(batchRows))
            {
                var samples = Sampler.Generate(model, tokenizer, chunk.Select(corpus.Prompt).ToArray(), 1, 0.0, 1.0, maxTokens, AfterAnswerLine);
                if (example.Length == 0) example = samples[0].Text;
                correct += chunk.Zip(samples).Count(x => AnswerChecker.Check(x.Second.Text, x.First).IsCorrect);
            }
            results[task] = ((double)correct / Math.Max(1, problems.Count), example);
        }
        return results;
    }
}
