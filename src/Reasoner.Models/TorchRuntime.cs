using TorchSharp;

namespace Reasoner.Models;

/// <summary>Device selection: the device is a setting ("cpu", "cuda", "cuda:1"), never a code path.</summary>
public static class TorchRuntime
{
    /// <summary>
    /// The in-process engine's weight dtype: <c>fp32</c> (the checkpoint's numbers, the default) or <c>bf16</c>, which
    /// halves the weights and, on a GPU or a CPU with bf16 instructions (AVX-512 BF16, AMX), multiplies several times
    /// faster; its logits differ from fp32's by bf16 rounding, so sampled tokens can differ.
    /// </summary>
    public static torch.ScalarType ParseDtype(string name) => name.Trim().ToLowerInvariant() switch
    {
        "fp32" or "float32" => torch.ScalarType.Float32,
        "bf16" or "bfloat16" => torch.ScalarType.BFloat16,
        _ => throw new ArgumentException($"unknown dtype '{name}': use fp32 or bf16"),
    };

    /// <summary>The name <see cref="ParseDtype"/> takes for a dtype (fp32, bf16), else libtorch's.</summary>
    public static string DtypeName(torch.ScalarType dtype) => dtype switch
    {
        torch.ScalarType.Float32 => "fp32",
        torch.ScalarType.BFloat16 => "bf16",
        _ => dtype.ToString(),
    };

    public static torch.Device ParseDevice(string name)
    {
        var n = name.Trim().ToLowerInvariant();
        if (n == "cpu") return torch.CPU;
        if (n.StartsWith("cuda"))
        {
            if (!torch.cuda.is_available())
                throw new ArgumentException($"device '{name}' requested but CUDA is not available (build with -p:Gpu=cuda12 on a CUDA machine)");
            return torch.device(n);
        }
        throw new ArgumentException($"unknown device '{name}': use cpu, cuda or cuda:N");
    }
}
