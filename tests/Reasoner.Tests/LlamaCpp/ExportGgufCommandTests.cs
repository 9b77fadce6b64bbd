using Reasoner.Models.Backends;
using Reasoner.Models.Gguf;
using Reasoner.Tests.Cli;

namespace Reasoner.Tests.LlamaCpp;

public class ExportGgufCommandTests
{
    [Fact]
    public async Task ExportGgufWritesAFileLlamaCppLoads()
    {
        using var tiny = new TinyGguf("qwen2");
        var target = Path.Combine(tiny.CheckpointDirectory, "out", "exported.gguf");
        var r = await CliRunner.Run("export-gguf", "--model", tiny.CheckpointDirectory, "--out", target, "--dtype", "f16", "--name", "tiny");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("qwen2", r.Out);
        var file = GgufFile.Read(target);
        Assert.Equal("tiny", file.Get<string>("general.name"));
        Assert.Equal(1u, file.Get<uint>("general.file_type"));
        Assert.Equal(GgmlType.F16, file.Tensor("blk.0.ffn_up.weight").Type);
        Assert.Equal(GgmlType.F32, file.Tensor("blk.0.attn_q.bias").Type);
        using var llama = LlamaCppModel.Load(target);
        Assert.Equal(tiny.Tokenizer.Encode("12 + 35 = 47"), llama.Tokenize("12 + 35 = 47"));
    }

    [Theory]
    [InlineData("--model", "/no/such/checkpoint", "--out", "x.gguf")]
    [InlineData("--model", ".", "--out", "x.gguf", "--dtype", "q4")]
    [InlineData("--out", "x.gguf")]
    public async Task BadInputIsOneErrorLineAndExitCode2(params string[] args)
    {
        var r = await CliRunner.Run(["export-gguf", .. args]);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: ", r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
    }
}
