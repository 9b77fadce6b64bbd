using System.Diagnostics;
using Reasoner.Models;
using static TorchSharp.torch;

namespace Reasoner.Training;

/// <summary>
/// What a training step computes and what the machine could: model FLOPs as in PaLM (Chowdhery et al. 2022, appendix B),
/// 6·N per token for the weights' forward and backward matmuls plus 12·L·d·T per token for attention over a T-token
/// sequence, counted over real (non-padding) tokens; and the peak, a large fp32 matmul timed on the same device with
/// the same threads. Their ratio is the model FLOPs utilisation (MFU).
/// </summary>
public static class TrainingFlops
{
    /// <summary>FLOPs of one forward and backward pass over sequences of the given lengths (padding not counted).</summary>
    public static double ForSequences(ModelConfig config, long parameters, IEnumerable<int> lengths)
    {
        double attentionPerTokenPosition = 12.0 * config.NumHiddenLayers * config.NumAttentionHeads * config.HeadDim;
        double total = 0;
        foreach (var t in lengths) total += 6.0 * parameters * t + attentionPerTokenPosition * t * (double)t;
        return total;
    }

    /// <summary>
    /// Peak matmul FLOP/s in <paramref name="dtype"/> (fp32 by default): the fastest of <paramref name="repeats"/> products
    /// of two n×n matrices (2n³ FLOPs each) after a warm-up, on <paramref name="device"/> with libtorch's current thread count.
    /// </summary>
    public static double MeasureMatmulPeak(Device? device = null, int n = 1024, int repeats = 8, ScalarType dtype = ScalarType.Float32)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var a = randn(n, n, device: device).to(dtype);
        var b = randn(n, n, device: device).to(dtype);
        for (int i = 0; i < 2; i++) matmul(a, b).Dispose();
        double best = double.MaxValue;
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            using var product = matmul(a, b);
            if (product.device_type != TorchSharp.DeviceType.CPU) cuda.synchronize();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * (double)n / best;
    }
}
