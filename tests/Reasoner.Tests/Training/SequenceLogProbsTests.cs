using Reasoner.Training;
using Reasoner.Training.Batching;
using static TorchSharp.torch;

namespace Reasoner.Tests.Training;

public class SequenceLogProbsTests
{
    /// <summary>
    /// Each target position holds log softmax(logits of the position before)[token], computed here by hand in doubles
    /// from one unpadded forward per sequence; prompt, first and pad positions hold 0 and are masked.
    /// </summary>
    [Fact]
    public void MatchesAHandComputationPerSequence()
    {
        using var model = TinyTraining.Model();
        var sequences = TinyTraining.Sequences;
        using var batch = TokenBatch.Collate(sequences, TinyTraining.Pad);
        using var logProbs = SequenceLogProbs.Compute(model, batch);
        Assert.Equal(batch.InputIds.shape, logProbs.Values.shape);
        var values = logProbs.Values.data<float>().ToArray();
        var mask = logProbs.Mask.data<float>().ToArray();

        for (int r = 0; r < sequences.Length; r++)
        {
            var s = sequences[r];
            float[] logits;
            using (no_grad()) logits = model.Forward(tensor(s.Tokens.Select(t => (long)t).ToArray(), [1, s.Length])).data<float>().ToArray();
            for (int t = 0; t < batch.Width; t++)
            {
                int i = r * (int)batch.Width + t;
                if (t < s.PromptLength || t >= s.Length)
                {
                    Assert.Equal(0f, mask[i]);
                    Assert.Equal(0f, values[i]);
                    continue;
                }
                var row = logits.Skip((t - 1) * TinyTraining.Vocab).Take(TinyTraining.Vocab).Select(v => (double)v).ToArray();
                double max = row.Max(), logSumExp = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
                Assert.Equal(1f, mask[i]);
                Assert.Equal(row[s.Tokens[t]] - logSumExp, values[i], 4);
            }
        }
    }

    [Fact]
    public void LossIgnoresPromptAndPadTokens()
    {
        using var model = TinyTraining.Model();
        double Loss(TrainingSequence[] sequences, int pad)
        {
            using var noGrad = no_grad();
            using var batch = TokenBatch.Collate(sequences, pad);
            using var logProbs = SequenceLogProbs.Compute(model, batch);
            return logProbs.MeanNegativeLogLikelihood().item<float>();
        }

        var baseline = Loss(TinyTraining.Sequences, pad: 0);
        // Another pad id, and other tokens after the targets (as pads), leave the loss unchanged.
        Assert.Equal(baseline, Loss(TinyTraining.Sequences, pad: 42), 5);
        // The loss is the mean over target tokens only: sum of hand-picked values over 8 targets.
        using (no_grad())
        {
            using var batch = TokenBatch.Collate(TinyTraining.Sequences, 0);
            using var logProbs = SequenceLogProbs.Compute(model, batch);
            var v = logProbs.Values.data<float>().ToArray();
            double sum = v.Sum(x => (double)x);
            Assert.Equal(-sum / 8, baseline, 5);
            Assert.Equal(sum, logProbs.SequenceSums().data<float>().Sum(x => (double)x), 4);
        }
    }
}
