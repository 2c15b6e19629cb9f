// Types for cliui 9 (the package ships none): the subset lft's help uses.
declare module "cliui" {
  export interface Column {
    text: string;
    width?: number;
    align?: "left" | "right" | "center";
    padding?: [number, number, number, number];
    border?: boolean;
  }
  export interface UI {
    div(...columns: (Column | string)[]): void;
    span(...columns: (Column | string)[]): void;
    toString(): string;
  }
  export default function cliui(options?: { width?: number; wrap?: boolean }): UI;
}
