// DAG layout by dagre (left to right), in React Flow's coordinates.
import dagre from "@dagrejs/dagre";

export const NODE_WIDTH = 230;
export const NODE_HEIGHT = 132;

export interface Positioned {
  id: string;
  x: number;
  y: number;
}

export function layoutDag(
  nodes: readonly { id: string }[],
  edges: readonly { source: string; target: string }[],
): Positioned[] {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "LR", nodesep: 36, ranksep: 90, marginx: 16, marginy: 16 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes) graph.setNode(node.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const edge of edges) {
    if (graph.hasNode(edge.source) && graph.hasNode(edge.target)) graph.setEdge(edge.source, edge.target);
  }
  dagre.layout(graph);
  return nodes.map((node) => {
    const placed = graph.node(node.id) as { x: number; y: number };
    // dagre gives centres; React Flow wants top-left corners.
    return { id: node.id, x: placed.x - NODE_WIDTH / 2, y: placed.y - NODE_HEIGHT / 2 };
  });
}
