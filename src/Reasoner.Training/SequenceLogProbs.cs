using Reasoner.Models;
using Reasoner.Training.Batching;
using static TorchSharp.torch;

namespace Reasoner.Training;

/// <summary>
/// Per-token log-probabilities of a batch under a model, aligned with the tokens: <c>Values[b, t]</c> is
/// log p(token t | tokens before t), and <c>Mask[b, t]</c> is 1 where that token is a target (its sequence's
/// <see cref="TrainingSequence.LossWeight"/> where one is set, pretraining only). Position 0 and
/// prompt and pad positions are masked out (their values are 0). This is the quantity every trainer builds on:
/// the language-model loss is minus its masked mean; DPO, TPO and OREO sum it per sequence.
/// </summary>
public sealed record TokenLogProbs(Tensor Values, Tensor Mask) : IDisposable
{
    /// <summary>[B]: each sequence's total target log-probability.</summary>
    public Tensor SequenceSums() => (Values * Mask).sum(1);

    /// <summary>Scalar: mean negative log-likelihood per target token (the cross-entropy loss).</summary>
    public Tensor MeanNegativeLogLikelihood() => -(Values * Mask).sum() / Mask.sum().clamp_min(1);

    /// <summary>
    /// Scalar: the target tokens' negative log-likelihoods weighted by the mask (<see cref="TrainingSequence.LossWeight"/>)
    /// and divided by the plain count of target tokens, so that a lighter sequence weighs less even in a batch of its
    /// own kind. Equals <see cref="MeanNegativeLogLikelihood"/> when every weight is 1.
    /// </summary>
    public Tensor NegativeLogLikelihoodPerTarget(long targetTokens) => -(Values * Mask).sum() / (double)Math.Max(targetTokens, 1);

    public void Dispose()
    {
        Values.Dispose();
        Mask.Dispose();
    }
}

public static class SequenceLogProbs
{
    /// <summary>Runs the model over the batch (with autograd when it is on) and gathers each target token's log-probability.</summary>
    public static TokenLogProbs Compute(CausalLanguageModel model, TokenBatch batch)
    {
        using var scope = NewDisposeScope();
        var logProbs = FromLogits(model.ForwardRightPadded(batch.InputIds), batch);             // batches are right-padded
        return new TokenLogProbs(logProbs.Values.MoveToOuterDisposeScope(), logProbs.Mask.MoveToOuterDisposeScope());
    }

    /// <summary>As <see cref="Compute"/>, from the same forward also the final hidden states [B,T,hidden] (TPO's step embeddings, value heads).</summary>
    public static (TokenLogProbs LogProbs, Tensor Hidden) ComputeWithHiddenStates(CausalLanguageModel model, TokenBatch batch)
    {
        using var scope = NewDisposeScope();
        var hidden = model.HiddenStatesRightPadded(batch.InputIds);
        var logProbs = FromLogits(model.Logits(hidden), batch);
        return (new TokenLogProbs(logProbs.Values.MoveToOuterDisposeScope(), logProbs.Mask.MoveToOuterDisposeScope()), hidden.MoveToOuterDisposeScope());
    }

    private static TokenLogProbs FromLogits(Tensor logits, TokenBatch batch)
    {
        long width = batch.Width;
        // Logits at t predict token t+1; log_softmax in fp32 whatever the model's dtype.
        var predicted = logits.narrow(1, 0, width - 1).to(ScalarType.Float32).log_softmax(-1);
        var next = batch.InputIds.narrow(1, 1, width - 1).unsqueeze(-1);
        var gathered = predicted.gather(-1, next).squeeze(-1);                                  // [B,T-1]
        var values = nn.functional.pad(gathered, [1, 0]);                                       // [B,T], 0 at t=0
        var mask = batch.LossMask.to(ScalarType.Float32);
        // Values are zeroed off the targets but not weighted: the mask carries the weights, so that they apply once.
        return new TokenLogProbs(values * mask.gt(0), mask.clone());
    }
}
