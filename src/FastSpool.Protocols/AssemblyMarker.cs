namespace FastSpool;
internal static class ProtocolsAssemblyMarker;
