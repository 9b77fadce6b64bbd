using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Reasoner.Training.Optimization;

/// <summary>
/// AdamW whose weight decay applies to matrices (linear and embedding weights) and not to vectors (norm
/// gains, biases): decaying a norm's gain towards 0 only fights the normalisation (nanoGPT's configure_optimizers).
/// </summary>
public static class AdamWGroups
{
    public static AdamW Create(nn.Module model, double learningRate, double weightDecay, double beta1 = 0.9, double beta2 = 0.95, double eps = 1e-8)
    {
        var parameters = model.parameters().Where(p => p.requires_grad).ToList();
        var decayed = parameters.Where(p => p.dim() >= 2).ToList();
        var plain = parameters.Where(p => p.dim() < 2).ToList();
        return optim.AdamW(
        [
            new AdamW.ParamGroup(decayed, learningRate, beta1, beta2, eps, weightDecay),
            new AdamW.ParamGroup(plain, learningRate, beta1, beta2, eps, 0.0),
        ], learningRate, beta1, beta2, eps, weightDecay);
    }

    public static void SetLearningRate(optim.Optimizer optimizer, double learningRate)
    {
        foreach (var group in optimizer.ParamGroups) group.LearningRate = learningRate;
    }
}
