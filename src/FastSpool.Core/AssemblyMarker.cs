namespace FastSpool;
internal static class CoreAssemblyMarker;
