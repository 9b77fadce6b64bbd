using System.CommandLine;
using Reasoner.Cli.Hosting;
using Reasoner.Models.Gguf;
using Spectre.Console;

namespace Reasoner.Cli.Commands;

/// <summary><c>export-gguf --model DIR --out FILE</c>: a checkpoint (HF layout) as a GGUF file llama.cpp loads.</summary>
static class ExportGgufCommand
{
    public enum WeightDtype { F32, F16 }

    public static Command Create(CliContext context)
    {
        var model = new Option<string>("--model", "-m") { Description = "Checkpoint folder in the Hugging Face layout (config.json, *.safetensors, tokenizer.json).", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "GGUF file to write (written whole or not at all).", Required = true };
        var dtype = EnumOption.Create<WeightDtype>("--dtype",
            "Type of the weight matrices; norms and biases stay f32 (as llama.cpp's convert_hf_to_gguf.py).", WeightDtype.F32);
        var name = new Option<string?>("--name") { Description = "general.name in the file. Default: the checkpoint folder's name." };
        var command = new Command("export-gguf", "Write a checkpoint (the built-in model or a trained one) as a GGUF v3 file for llama.cpp: architecture llama, qwen2 or qwen3 as the checkpoint's model_type, byte-level BPE tokenizer included.")
        {
            model, output, dtype, name,
        };
        command.SetAction(parse =>
        {
            var options = new GgufExportOptions
            {
                WeightType = EnumOption.Value<WeightDtype>(parse, dtype) == WeightDtype.F16 ? GgmlType.F16 : GgmlType.F32,
                Name = parse.GetValue(name),
            };
            GgufExportResult result;
            try
            {
                result = GgufExporter.Export(parse.GetValue(model)!, parse.GetValue(output)!, options);
            }
            catch (NotSupportedException e) // a model or tokenizer llama.cpp cannot represent: the input's fault, exit code 2
            {
                throw new UserError(e.Message);
            }
            context.Console.MarkupLineInterpolated($"{result.Architecture}, {result.TensorCount} tensors, {result.Bytes / 1e6:F1} MB → {result.Path}");
            return 0;
        });
        return command;
    }
}
