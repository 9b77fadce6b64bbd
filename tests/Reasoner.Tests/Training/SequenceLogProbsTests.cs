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

    /// <summary>
    /// A sequence's loss weight scales its tokens' share of the loss and the count stays plain, so a batch of light
    /// sequences alone weighs less too (what pretraining's --solution-weight relies on with length-bucketed batches).
    /// </summary>
    [Fact]
    public void ASequencesLossWeightScalesItsShareEvenInABatchOfItsOwn()
    {
        using var model = TinyTraining.Model();
        double PerTarget(TrainingSequence[] sequences)
        {
            using var noGrad = no_grad();
            using var batch = TokenBatch.Collate(sequences, TinyTraining.Pad);
            using var logProbs = SequenceLogProbs.Compute(model, batch);
            return logProbs.NegativeLogLikelihoodPerTarget(batch.TargetTokens).item<float>();
        }
        double Mean(TrainingSequence[] sequences)
        {
            using var noGrad = no_grad();
            using var batch = TokenBatch.Collate(sequences, TinyTraining.Pad);
            using var logProbs = SequenceLogProbs.Compute(model, batch);
            return logProbs.MeanNegativeLogLikelihood().item<float>();
        }

        var plain = TinyTraining.Sequences;
        using (var b = TokenBatch.Collate(plain, TinyTraining.Pad)) Assert.Equal(8, b.TargetTokens);
        Assert.Equal(Mean(plain), PerTarget(plain), 5);
        var quarter = plain.Select(s => s with { LossWeight = 0.25f }).ToArray();
        Assert.Equal(0.25 * PerTarget(plain), PerTarget(quarter), 5);
        // One light sequence among plain ones: its tokens count a quarter, the others fully, over the plain count.
        var first = new[] { plain[0] };
        var rest = plain.Skip(1).ToArray();
        double firstTargets = plain[0].TargetLength, restTargets = rest.Sum(s => s.TargetLength);
        var mixed = plain.Select((s, i) => i == 0 ? s with { LossWeight = 0.25f } : s).ToArray();
        Assert.Equal((0.25 * PerTarget(first) * firstTargets + PerTarget(rest) * restTargets) / (firstTargets + restTargets), PerTarget(mixed), 5);
        Assert.Throws<ArgumentOutOfRangeException>(() => plain[0] with { LossWeight = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => plain[0] with { LossWeight = float.NaN });
    }
}
