using Reasoner.Models;
using Reasoner.Training.Batching;
using Reasoner.Training.Framework;
using static TorchSharp.torch;

namespace Reasoner.Training.Oreo;

/// <summary>Mean OREO figures over a set of paths.</summary>
/// <param name="ValueRight">Mean V(s_0), the value of the question alone, over paths that end right; <see cref="ValueWrong"/> over the others.</param>
public sealed record OreoMetrics(int Paths, double Loss, double PolicyLoss, double ValueLoss, double Kl, double ValueRight, double ValueWrong) : ITrainingMetrics
{
    public IEnumerable<KeyValuePair<string, double>> Named(string prefix) =>
    [
        new($"{prefix}loss", Loss), new($"{prefix}policy_loss", PolicyLoss), new($"{prefix}value_loss", ValueLoss), new($"{prefix}kl", Kl),
        new($"{prefix}value/right", ValueRight), new($"{prefix}value/wrong", ValueWrong),
    ];
}

/// <summary>
/// B paths as right-padded rows, with each step's tokens (for its log-ratio), the position of the state before each step
/// (where V is read: the last token before the step), the reward, and which positions predict an action token (for the KL).
/// </summary>
public sealed record OreoBatch(Tensor InputIds, Tensor StepTokens, Tensor StatePositions, Tensor StepMask, Tensor Rewards, Tensor ActionMask, long RealTokens) : ITokenCounts, IDisposable
{
    public long TargetTokens => RealTokens;

    public static OreoBatch Collate(IReadOnlyList<OreoPath> paths, int padId, Device device)
    {
        int rows = paths.Count, width = paths.Max(p => p.Length), steps = paths.Max(p => p.Steps.Count);
        var ids = Enumerable.Repeat((long)padId, rows * width).ToArray();
        var stepTokens = new float[rows * steps * width];   // [B,S,W]: 1 where token w is one of step s's
        var states = new long[rows * steps];
        var stepMask = new float[rows * steps];
        var actions = new float[rows * width];              // [B,W]: 1 at positions that predict an action token
        long real = 0;
        for (int r = 0; r < rows; r++)
        {
            var path = paths[r];
            int at = 0;
            foreach (var id in path.Prompt) ids[r * width + at++] = id;
            for (int s = 0; s < steps; s++)
            {
                states[r * steps + s] = r * width + Math.Max(0, at - 1);
                if (s >= path.Steps.Count) continue;
                stepMask[r * steps + s] = 1;
                foreach (var id in path.Steps[s])
                {
                    ids[r * width + at] = id;
                    stepTokens[(r * steps + s) * width + at] = 1;
                    actions[r * width + at - 1] = 1;
                    at++;
                }
            }
            real += at;
        }
        return new OreoBatch(tensor(ids, [rows, width], device: device), tensor(stepTokens, [rows, steps, width], device: device),
            tensor(states, [rows, steps], device: device), tensor(stepMask, [rows, steps], device: device),
            tensor(paths.Select(p => (float)p.Reward).ToArray(), device: device), tensor(actions, [rows, width], device: device), real);
    }

    public void Dispose()
    {
        InputIds.Dispose();
        StepTokens.Dispose();
        StatePositions.Dispose();
        StepMask.Dispose();
        Rewards.Dispose();
        ActionMask.Dispose();
    }
}

/// <summary>
/// OREO at step level (<see cref="OreoLoss"/>) with the value model as a head on the policy (<see cref="CausalLanguageModel.AttachValueHead"/>):
/// one forward gives the policy's log-probabilities and V(s_t); the frozen <paramref name="reference"/> (the starting
/// policy) gives log π_ref and the KL's reference distribution. Loss = policy loss + value loss + α·KL.
/// </summary>
public sealed class OreoObjective(CausalLanguageModel policy, CausalLanguageModel reference, int padId, OreoSettings settings)
    : IPolicyObjective<OreoPath, bool, OreoBatch, OreoMetrics>
{
    public int Length(OreoPath path) => path.Length;

    public OreoBatch Collate(IReadOnlyList<OreoPath> paths, IReadOnlyList<bool> _, Device device) => OreoBatch.Collate(paths, padId, device);

    // Nothing is taken up front: the KL needs the reference's whole distribution at every position, so the frozen
    // reference runs with each batch instead.
    public IReadOnlyList<bool> Reference(OreoBatch batch) => new bool[batch.InputIds.shape[0]];

    public IMetricTally<OreoMetrics> NewTally() => new Tally();

    public Tensor Loss(OreoBatch batch, IMetricTally<OreoMetrics> tally)
    {
        var ids = batch.InputIds;
        long width = ids.shape[1];
        var hidden = policy.HiddenStatesRightPadded(ids);
        // Position k predicts token k+1; the whole distributions serve the KL, the chosen tokens' entries the log-ratios.
        var logProbs = policy.Logits(hidden).narrow(1, 0, width - 1).to(ScalarType.Float32).log_softmax(-1);
        var targets = ids.narrow(1, 1, width - 1).unsqueeze(-1);
        var tokenLogProbs = logProbs.gather(-1, targets).squeeze(-1);               // [B,W−1], token k+1's
        Tensor referenceAll, referenceLogProbs;
        using (no_grad())
        {
            referenceAll = reference.ForwardRightPadded(ids).narrow(1, 0, width - 1).to(ScalarType.Float32).log_softmax(-1);
            referenceLogProbs = referenceAll.gather(-1, targets).squeeze(-1);
        }
        var ratios = tokenLogProbs - referenceLogProbs;                               // aligned to tokens 1…W−1
        var stepRatios = batch.StepTokens.narrow(2, 1, width - 1).bmm(ratios.unsqueeze(-1)).squeeze(-1);   // [B,S]
        var values = policy.Scores(hidden).reshape(-1).index_select(0, batch.StatePositions.reshape(-1)).reshape(batch.StatePositions.shape);
        var policyLoss = OreoLoss.Policy(stepRatios, values, batch.Rewards, batch.StepMask, settings.Beta);
        var valueLoss = OreoLoss.Value(stepRatios, values, batch.Rewards, batch.StepMask, settings.Beta);
        var kl = OreoLoss.KlOfLogProbs(logProbs, referenceAll, batch.ActionMask.narrow(1, 0, width - 1));
        var loss = policyLoss + valueLoss + settings.KlWeight * kl;
        var first = values.select(1, 0).detach().to(ScalarType.Float64).cpu().data<double>().ToArray();
        var rewards = batch.Rewards.cpu().data<float>().ToArray();
        ((Tally)tally).Add(rows: first.Length, loss.detach().item<float>(), policyLoss.detach().item<float>(), valueLoss.detach().item<float>(), kl.detach().item<float>(), first, rewards);
        return loss;
    }

    private sealed class Tally : IMetricTally<OreoMetrics>
    {
        private int paths, right, wrong;
        private double loss, policyLoss, valueLoss, kl, valueRight, valueWrong;

        public void Add(int rows, double batchLoss, double batchPolicy, double batchValue, double batchKl, double[] firstValues, float[] rewards)
        {
            paths += rows;
            (loss, policyLoss, valueLoss, kl) = (loss + batchLoss * rows, policyLoss + batchPolicy * rows, valueLoss + batchValue * rows, kl + batchKl * rows);
            for (int i = 0; i < rows; i++)
                if (rewards[i] > 0) { right++; valueRight += firstValues[i]; }
                else { wrong++; valueWrong += firstValues[i]; }
        }

        public OreoMetrics Metrics()
        {
            double n = Math.Max(1, paths);
            return new OreoMetrics(paths, loss / n, policyLoss / n, valueLoss / n, kl / n,
                right == 0 ? double.NaN : valueRight / right, wrong == 0 ? double.NaN : valueWrong / wrong);
        }
    }
}

/// <summary>OREO on the shared loop; <paramref name="policy"/> must carry its value head.</summary>
public sealed class OreoTrainer(CausalLanguageModel policy, CausalLanguageModel reference, int padId, OreoSettings settings)
    : PolicyTrainer<OreoPath, bool, OreoBatch, OreoMetrics>(policy, new OreoObjective(policy, reference, padId, settings), settings);
